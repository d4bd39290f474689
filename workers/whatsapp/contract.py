"""Everything the worker asks of wa-js (the page library ``WPP``), in one place.

The bridge script (bridge.js) uses exactly these names; the simulator's double of ``WPP``
offers exactly these names; the contract test checks each against the pinned, real
``@wppconnect/wa-js`` (its dist file and its ``.d.ts`` declarations). Upgrading wa-js is
bumping package.json, ``npm ci`` and running that test.

Names are paths below ``window.WPP``. For a function, the value is the parameters the
worker passes, named as wa-js's declaration names them.
"""

WA_JS_PACKAGE = "@wppconnect/wa-js"
WA_JS_FILE = "node_modules/@wppconnect/wa-js/dist/wppconnect-wa.js"

FUNCTIONS: dict[str, tuple[str, ...]] = {
    "on": ("event", "listener"),
    "loader.onReady": ("listener",),
    "conn.getAuthCode": (),
    "conn.isAuthenticated": (),
    "conn.isMainReady": (),
    "conn.getStreamData": (),
    # The managed form of genLinkDeviceCodeForPhoneNumber: it calls it, refreshes the code
    # when WhatsApp asks, and emits the link_code_* events below.
    "conn.startLinkDeviceCodeForPhoneNumber": ("phone", "sendPushNotification"),
    "chat.sendTextMessage": ("chatId", "content", "options"),
    "chat.sendFileMessage": ("chatId", "content", "options"),
    "chat.markIsRead": ("chatId",),
    "chat.get": ("chatId",),
    "chat.downloadMedia": ("id",),
    "util.blobToBase64": ("blob",),
    "conn.getMyUserId": (),
    "conn.getMyUserLid": (),
    "contact.queryExists": ("contactId",),
    "contact.getPnLidEntry": ("contactId",),
    # "Use here" after a conflict: WhatsApp's own socket model (found by wa-js at run time).
    "whatsapp.Socket.takeover": (),
}

PROPERTIES: tuple[str, ...] = ("isReady",)

EVENTS: tuple[str, ...] = (
    "conn.auth_code_change",
    "conn.qrcode_idle",
    "conn.authenticated",
    "conn.main_ready",
    "conn.logout",
    "conn.stream_mode_changed",
    "conn.stream_info_changed",
    "conn.link_code_change",
    "conn.link_code_expired",
    "conn.link_code_error",
    "chat.new_message",
    "chat.msg_ack_change",
    "group.participant_changed",
)

# wa-js's ACK values (chat.msg_ack_change's ``ack``, SendMessageReturn's ``ack``).
ACK_ERROR, ACK_PENDING, ACK_SERVER, ACK_DEVICE, ACK_READ, ACK_PLAYED = -1, 0, 1, 2, 3, 4

# StreamMode values (conn.stream_mode_changed, getStreamData().mode).
STREAM_MODES = (
    "QR",
    "MAIN",
    "SYNCING",
    "OFFLINE",
    "CONFLICT",
    "PROXYBLOCK",
    "TOS_BLOCK",
    "SMB_TOS_BLOCK",
    "DEPRECATED_VERSION",
)
# StreamInfo values (conn.stream_info_changed, getStreamData().info).
STREAM_INFOS = ("OFFLINE", "OPENING", "PAIRING", "SYNCING", "RESUMING", "CONNECTING", "NORMAL")
