"""The simulator page's wa-js double: every WPP call and event the worker uses, in headless Chromium."""

from collections.abc import Callable

import pytest
from selenium import webdriver

from tests.helpers.simulator_http import Simulator
from tests.simulator.wpp import call, events, link_by_qr, ok, open_page, wait, wait_event
from workers.whatsapp.contract import FUNCTIONS, PROPERTIES

pytestmark = pytest.mark.browser

Browser = Callable[..., webdriver.Chrome]
PHONE = "15550001111"
CONTACT = "15551234567"
GROUP = "120363012345678901@g.us"
LID = "190012345678901@lid"

WALK_TREE = """
const functions = [], properties = [];
(function walk(node, prefix) {
  for (const name of Object.keys(node)) {
    const value = node[name];
    if (typeof value === 'function') functions.push(prefix + name);
    else if (value !== null && typeof value === 'object') walk(value, prefix + name + '.');
    else properties.push(prefix + name);
  }
})(window.WPP, '');
return [functions, properties];
"""


def linked_page(simulator: Simulator, browser: Browser) -> tuple[webdriver.Chrome, str]:
    driver = browser()
    open_page(simulator, driver)
    return driver, link_by_qr(simulator, driver, PHONE)


def incoming(simulator: Simulator, session_id: str, **body: object) -> dict:
    return simulator.control(f"/sessions/{session_id}/incoming", {"text": "hi", **body})


def test_it_offers_exactly_the_contract_names(simulator: Simulator, sim_browser: Browser) -> None:
    driver = sim_browser()
    driver.get(simulator.base_url + "/")
    functions, properties = driver.execute_script(WALK_TREE)
    assert sorted(functions) == sorted(FUNCTIONS)
    assert sorted(properties) == sorted(PROPERTIES)


def test_it_reports_each_qr_code_then_idle_when_they_run_out(
    start_simulator: Callable[..., Simulator], sim_browser: Browser
) -> None:
    simulator = start_simulator(loading_seconds=1.0, qr_rotate_seconds=0.8, qr_max_rotations=2)
    driver = sim_browser()
    open_page(simulator, driver)
    assert ok(driver, "WPP.conn.getStreamData()")["mode"] == "QR"
    wait_event(driver, "conn.qrcode_idle")
    codes = events(driver, "conn.auth_code_change")
    assert codes[-1] is None  # no usable code once idle
    first, second = codes[:-1]
    assert first["type"] == "multidevice" and first["fullCode"] != second["fullCode"]
    assert first["fullCode"] == ",".join(
        [first["ref"], first["staticKeyPair"], first["identityKeyPair"], first["secretKey"]]
    )
    assert ok(driver, "WPP.conn.getAuthCode()") is None
    assert ok(driver, "WPP.conn.isAuthenticated()") is False


def test_it_links_by_qr_and_reports_authenticated_then_main_ready(
    start_simulator: Callable[..., Simulator], sim_browser: Browser
) -> None:
    simulator = start_simulator(loading_seconds=1.0)  # long enough to see the syncing mode
    driver = sim_browser()
    open_page(simulator, driver)
    code = wait(driver).until(lambda d: call(d, "WPP.conn.getAuthCode()")["ok"])
    assert code["fullCode"] == simulator.sessions()[0]["qr"]
    simulator.control("/link", {"qr": code["fullCode"], "phone": PHONE})

    wait_event(driver, "conn.main_ready")
    assert events(driver, "conn.authenticated") == [None]
    assert events(driver, "conn.stream_mode_changed")[-2:] == ["SYNCING", "MAIN"]
    assert events(driver, "conn.auth_code_change")[-1] is None
    assert ok(driver, "WPP.conn.isAuthenticated()") is True
    assert ok(driver, "WPP.conn.isMainReady()") is True
    assert ok(driver, "WPP.conn.getStreamData()") == {"mode": "MAIN", "info": "NORMAL"}


def test_it_links_by_pairing_code(simulator: Simulator, sim_browser: Browser) -> None:
    driver = sim_browser()
    open_page(simulator, driver)
    code = ok(driver, "WPP.conn.startLinkDeviceCodeForPhoneNumber(args[0])", "+" + PHONE)
    assert len(code) == 8 and code.isalnum() and code.upper() == code
    assert events(driver, "conn.link_code_change") == [code]
    again = ok(driver, "WPP.conn.startLinkDeviceCodeForPhoneNumber(args[0], false)", PHONE)
    assert events(driver, "conn.link_code_change") == [code, again]

    assert simulator.post("/sim/control/link-code", {"code": "ZZZZ9999"}).status == 404
    linked = simulator.control("/link-code", {"code": again})
    assert linked["phone"] == PHONE
    wait_event(driver, "conn.main_ready")
    assert events(driver, "conn.authenticated") == [None]

    refused = call(driver, "WPP.conn.startLinkDeviceCodeForPhoneNumber(args[0])", PHONE)
    assert "already linked" in refused["error"]
    assert "already linked" in events(driver, "conn.link_code_error")[0]["message"]


def test_it_expires_an_unused_pairing_code(
    start_simulator: Callable[..., Simulator], sim_browser: Browser
) -> None:
    simulator = start_simulator(link_code_seconds=0.5)
    driver = sim_browser()
    open_page(simulator, driver)
    assert "error" in call(driver, "WPP.conn.startLinkDeviceCodeForPhoneNumber('12')")
    code = ok(driver, "WPP.conn.startLinkDeviceCodeForPhoneNumber(args[0])", PHONE)
    wait_event(driver, "conn.link_code_expired")
    assert simulator.post("/sim/control/link-code", {"code": code}).status == 404


def test_it_emits_new_incoming_messages_of_every_kind(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    incoming(simulator, session_id, **{"from": CONTACT, "text": "one\ntwo 😀", "name": "Alice", "id": "AB1"})
    message = wait_event(driver, "chat.new_message")
    assert message["id"] == {
        "_serialized": f"false_{CONTACT}@c.us_AB1",
        "id": "AB1",
        "fromMe": False,
        "remote": {"_serialized": f"{CONTACT}@c.us", "user": CONTACT, "server": "c.us"},
    }
    assert message["from"]["_serialized"] == f"{CONTACT}@c.us"
    assert message["to"]["_serialized"] == f"{PHONE}@c.us"
    assert (message["body"], message["type"], message["notifyName"]) == ("one\ntwo 😀", "chat", "Alice")
    assert message["isNewMsg"] is True and message["isGroupMsg"] is False
    assert "author" not in message and "quotedMsgId" not in message
    assert isinstance(message["t"], int)

    incoming(simulator, session_id, **{"from": CONTACT, "group": GROUP, "quoted": "AB1", "id": "G1"})
    group = wait_event(driver, "chat.new_message", lambda m: m["id"]["id"] == "G1")
    assert group["from"]["_serialized"] == GROUP and group["isGroupMsg"] is True
    assert group["author"]["_serialized"] == f"{CONTACT}@c.us"
    assert group["id"]["_serialized"] == f"false_{GROUP}_G1_{CONTACT}@c.us"
    assert group["quotedMsgId"] == "AB1"

    incoming(simulator, session_id, **{"from": CONTACT, "status": True, "id": "S1"})
    status = wait_event(driver, "chat.new_message", lambda m: m["id"]["id"] == "S1")
    assert status["from"]["_serialized"] == "status@broadcast"
    assert len(events(driver, "chat.new_message")) == 3


def test_it_resolves_a_lid_sender_only_when_its_phone_is_known(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    incoming(simulator, session_id, lid="190099999999999", id="L0")
    hidden = wait_event(driver, "chat.new_message")
    assert hidden["from"]["_serialized"] == "190099999999999@lid"
    assert ok(driver, "WPP.contact.getPnLidEntry(args[0])", "190099999999999@lid") == {
        "lid": {"id": "190099999999999", "server": "lid", "_serialized": "190099999999999@lid"}
    }

    incoming(simulator, session_id, lid=LID, **{"from": CONTACT, "id": "L1"})
    wait_event(driver, "chat.new_message", lambda m: m["from"]["_serialized"] == LID)
    entry = ok(driver, "WPP.contact.getPnLidEntry(args[0])", LID)
    assert entry["phoneNumber"]["_serialized"] == f"{CONTACT}@c.us"
    assert ok(driver, "WPP.contact.getPnLidEntry(args[0])", f"{CONTACT}@c.us")["lid"]["_serialized"] == LID
    assert ok(driver, "WPP.contact.queryExists(args[0])", f"{CONTACT}@c.us")["lid"]["_serialized"] == LID


def test_a_reloaded_page_does_not_replay_old_messages(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    incoming(simulator, session_id, **{"from": CONTACT, "id": "OLD1"})
    wait_event(driver, "chat.new_message")
    open_page(simulator, driver)
    wait_event(driver, "conn.main_ready")
    incoming(simulator, session_id, **{"from": CONTACT, "id": "NEW1"})
    wait_event(driver, "chat.new_message")
    assert [m["id"]["id"] for m in events(driver, "chat.new_message")] == ["NEW1"]


def test_it_sends_text_intact_and_reports_each_ack(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    text = "Hello 😀\nsecond line"
    sent = ok(driver, "WPP.chat.sendTextMessage(args[0], args[1], {})", f"{CONTACT}@c.us", text)
    assert sent["ack"] == 0 and sent["sendMsgResult"] == {}
    assert (sent["from"], sent["to"]) == (f"{PHONE}@c.us", f"{CONTACT}@c.us")
    assert sent["id"].startswith(f"true_{CONTACT}@c.us_3EB0")
    own = wait_event(driver, "chat.new_message")  # as wa-js does: our own sends are new messages too
    assert own["id"]["_serialized"] == sent["id"] and own["id"]["fromMe"] is True
    assert (own["from"]["_serialized"], own["to"]["_serialized"]) == (f"{PHONE}@c.us", f"{CONTACT}@c.us")

    wait_event(driver, "chat.msg_ack_change", lambda a: a["ack"] == 2)
    acks = events(driver, "chat.msg_ack_change")
    assert [a["ack"] for a in acks] == [1, 2]
    assert acks[0]["chat"]["_serialized"] == f"{CONTACT}@c.us"
    assert acks[0]["ids"][0]["_serialized"] == sent["id"]
    record = simulator.get(f"/sim/control/sessions/{session_id}/sent").body["messages"][0]
    assert (record["text"], record["ack"], record["data_id"]) == (text, 2, sent["id"])

    simulator.control(f"/sessions/{session_id}/ack", {"id": sent["id"], "ack": 3})
    wait_event(driver, "chat.msg_ack_change", lambda a: a["ack"] == 3)

    for chat in (GROUP, LID):
        assert ok(driver, "WPP.chat.sendTextMessage(args[0], 'x')", chat)["to"] == chat


def test_it_keeps_sends_pending_in_never_mode_and_reads_in_read_mode(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    simulator.control(f"/sessions/{session_id}/acks", {"mode": "never"})
    quiet = ok(driver, "WPP.chat.sendTextMessage(args[0], 'quiet')", CONTACT)
    simulator.control(f"/sessions/{session_id}/acks", {"mode": "read"})
    loud = ok(driver, "WPP.chat.sendTextMessage(args[0], 'loud')", CONTACT)
    wait_event(driver, "chat.msg_ack_change", lambda a: a["ack"] == 3)
    acked = {a["ids"][0]["_serialized"] for a in events(driver, "chat.msg_ack_change")}
    assert acked == {loud["id"]}
    assert quiet["id"] not in acked
    assert simulator.post(f"/sim/control/sessions/{session_id}/acks", {"mode": "x"}).status == 400
    bad_ack = {"id": loud["id"], "ack": 7}
    assert simulator.post(f"/sim/control/sessions/{session_id}/ack", bad_ack).status == 400
    assert simulator.post(f"/sim/control/sessions/{session_id}/ack", {"id": "NOPE", "ack": 1}).status == 404


def test_it_rejects_sends_to_invalid_numbers_and_answers_query_exists(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, _ = linked_page(simulator, sim_browser)
    simulator.control("/invalid-numbers", {"numbers": ["15559999999"]})
    assert ok(driver, "WPP.contact.queryExists(args[0])", "15559999999@c.us") is None
    found = ok(driver, "WPP.contact.queryExists(args[0])", f"{CONTACT}@c.us")
    assert found == {
        "wid": {"_serialized": f"{CONTACT}@c.us", "user": CONTACT, "server": "c.us"},
        "biz": False,
    }
    refused = call(driver, "WPP.chat.sendTextMessage(args[0], 'x')", "15559999999@c.us")
    assert "not on WhatsApp" in refused["error"]
    assert ok(driver, "WPP.chat.markIsRead(args[0])", f"{CONTACT}@c.us") == {
        "wid": {"_serialized": f"{CONTACT}@c.us", "user": CONTACT, "server": "c.us"},
        "unreadCount": 0,
    }


def test_it_rejects_sends_before_linking(simulator: Simulator, sim_browser: Browser) -> None:
    driver = sim_browser()
    open_page(simulator, driver)
    assert "not linked" in call(driver, "WPP.chat.sendTextMessage(args[0], 'x')", CONTACT)["error"]


def test_it_reports_conflict_and_takes_over(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    simulator.control(f"/sessions/{session_id}/conflict")
    wait_event(driver, "conn.stream_mode_changed", lambda mode: mode == "CONFLICT")
    assert "another window" in call(driver, "WPP.chat.sendTextMessage(args[0], 'x')", CONTACT)["error"]
    driver.execute_script("WPP.whatsapp.Socket.takeover()")
    wait(driver).until(lambda d: events(d, "conn.stream_mode_changed")[-1] == "MAIN")
    assert simulator.session(session_id)["state"] == "linked"


def test_it_reports_blocks_phone_offline_and_their_end(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    for action, mode in (("tos-block", "TOS_BLOCK"), ("deprecated-version", "DEPRECATED_VERSION")):
        simulator.control(f"/sessions/{session_id}/{action}")
        wait_event(driver, "conn.stream_mode_changed", lambda m, mode=mode: m == mode)
        assert "blocked" in call(driver, "WPP.chat.sendTextMessage(args[0], 'x')", CONTACT)["error"]
    simulator.control(f"/sessions/{session_id}/unblock")
    wait(driver).until(lambda d: events(d, "conn.stream_mode_changed")[-1] == "MAIN")

    simulator.control(f"/sessions/{session_id}/phone-offline")
    wait_event(driver, "conn.stream_info_changed", lambda info: info == "OFFLINE")
    simulator.control(f"/sessions/{session_id}/phone-online")
    wait(driver).until(lambda d: events(d, "conn.stream_info_changed")[-1] == "NORMAL")


def test_it_emits_logout_before_going_to_the_qr_page(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    driver.execute_script("WPP.on('conn.logout', () => sessionStorage.setItem('logout', 'seen'))")
    simulator.control(f"/sessions/{session_id}/logout")
    wait(driver).until(lambda d: "post_logout=1" in d.current_url)
    assert driver.execute_script("return sessionStorage.getItem('logout')") == "seen"


def test_a_stale_page_is_not_main_ready(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = linked_page(simulator, sim_browser)
    simulator.control(f"/sessions/{session_id}/freeze", {"mode": "stale"})
    wait(driver).until(lambda d: d.execute_script("return WPP.conn.isMainReady()") is False)
    simulator.control(f"/sessions/{session_id}/unfreeze")
    wait(driver).until(lambda d: d.execute_script("return WPP.conn.isMainReady()") is True)


def test_it_links_by_pairing_code_from_the_control_page(simulator: Simulator, sim_browser: Browser) -> None:
    driver = sim_browser()
    open_page(simulator, driver)
    code = ok(driver, "WPP.conn.startLinkDeviceCodeForPhoneNumber(args[0])", PHONE)
    page = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(simulator.base_url + "/sim/control/")
    driver.find_element("css selector", "#link-code-form input[name=code]").send_keys(code)
    driver.find_element("css selector", "#link-code-form button").click()
    wait(driver).until(lambda d: "Link by code: done" in d.find_element("id", "status").text)
    driver.switch_to.window(page)
    wait_event(driver, "conn.main_ready")
    assert simulator.sessions()[0]["phone"] == PHONE
