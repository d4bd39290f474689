"""Every selector the worker uses on WhatsApp Web, in one place, each with fallbacks.

WhatsApp changes its page often (``data-testid`` went in 2023, icon names churn), so each
purpose lists several CSS selectors, the most durable first: ids, semantic classes,
``data-*`` attributes and ARIA roles; never obfuscated class names. The page script
(observer.js) receives this table as JSON, so it holds no selector of its own.
See shared/spec/whatsapp-web-dom.md for where each comes from.
"""

SELECTORS: dict[str, list[str]] = {
    # Loading / syncing.
    "progress": ["progress", "div[role='progressbar']"],
    # Login view: the element whose data-ref is the QR value wraps the canvas.
    "qr_container": ["div.landing-wrapper div[data-ref]", "div[data-ref]"],
    "qr_canvas": [
        "div[data-ref] canvas[aria-label='Scan this QR code to link a device!']",
        "div[data-ref] canvas[aria-label='Scan me!']",
        "div[data-ref] canvas",
    ],
    "qr_reload": ["div[data-ref] button", "div.landing-wrapper button[aria-label*='reload' i]"],
    # Main view.
    "chat_list": ["#pane-side", "div[aria-label='Chat list'][role='grid']"],
    "chat_rows": [
        "#pane-side div[role='grid'] div[role='listitem']",
        "#pane-side div[role='grid'] div[role='row']",
        "div[aria-label='Chat list'] div[role='listitem']",
    ],
    "chat_title": ["span[title]"],
    "unread_badge": ["span[aria-label*='unread']"],
    "open_chat_title": ["#main header span[title]", "#main header span[dir='auto']"],
    "message_rows": ["#main div[role='row'] div[data-id]", "#main div[data-id]"],
    "message_in": [".message-in"],
    "message_meta": ["div.copyable-text[data-pre-plain-text]", "[data-pre-plain-text]"],
    "message_text": ["span.selectable-text", "div.copyable-text span[dir]"],
    "compose_box": [
        "#main footer div.lexical-rich-text-input div[role='textbox'][contenteditable='true']",
        "#main footer div[contenteditable='true'][data-tab='10']",
        "#main footer div[role='textbox'][contenteditable='true']",
    ],
    "send_button": [
        "#main footer button[aria-label='Send']",
        "#main footer span[data-icon='wds-ic-send-filled']",
        "#main footer span[data-icon='send']",
    ],
    "pending_icon": ["span[data-icon='msg-time']"],
    # Overlays.
    "modal": ["div[data-animate-modal-popup='true']"],
    "modal_buttons": ["div[data-animate-modal-popup='true'] button"],
}

# Page texts that tell states apart (the browser runs with --lang=en-US).
TEXTS: dict[str, list[str]] = {
    "conflict": ["open on another computer", "Use here"],
    "phone_unreachable": ["Trying to reach phone"],
    "invalid_number": ["Phone number shared via url is invalid"],
}

# The URL marker of a logged-out page.
LOGGED_OUT_QUERY = "post_logout=1"
