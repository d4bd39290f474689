import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from workers import services
from workers.models import ReplyRule

LIST = reverse("portal:rules")
NEW = reverse("portal:rule_create")


def form(**overrides: object) -> dict:
    return {
        "name": "Opening hours",
        "match_type": "KEYWORD",
        "pattern": "hours",
        "reply_text": "We open at 8",
        "priority": 10,
        "enabled": "on",
        **overrides,
    }


@pytest.fixture
def rule(tenant) -> ReplyRule:
    return services.reply_rule_create(
        tenant=tenant, name="Opening hours", pattern="hours", reply_text="We open at 8"
    )


def test_it_adds_a_rule_for_the_signed_in_tenant(owner, tenant):
    response = owner.post(NEW, form(), follow=True)
    rule = ReplyRule.objects.get()
    assert (rule.tenant, rule.pattern, rule.priority, rule.enabled) == (tenant, "hours", 10, True)
    assert "Rule “Opening hours” added." in response.content.decode()
    assert "We open at 8" in response.content.decode()


def test_it_shows_why_a_broken_regex_cant_be_saved(owner, tenant):
    response = owner.post(NEW, form(match_type="REGEX", pattern="(unclosed"))
    assert response.status_code == 400
    assert "Not a valid regular expression" in response.content.decode()
    assert not ReplyRule.objects.exists()


def test_it_edits_a_rule(owner, rule):
    response = owner.post(
        reverse("portal:rule_edit", args=[rule.id]), form(reply_text="We open at 9", priority=5)
    )
    assert response["Location"] == LIST
    rule.refresh_from_db()
    assert (rule.reply_text, rule.priority) == ("We open at 9", 5)


def test_it_keeps_a_rule_unchanged_when_the_edit_is_invalid(owner, rule):
    response = owner.post(
        reverse("portal:rule_edit", args=[rule.id]), form(match_type="REGEX", pattern="[a-")
    )
    assert response.status_code == 400
    rule.refresh_from_db()
    assert (rule.match_type, rule.pattern) == ("KEYWORD", "hours")


def test_it_switches_a_rule_off_and_on_as_the_button_says(owner, rule):
    toggle = reverse("portal:rule_toggle", args=[rule.id])
    owner.post(toggle, {"enabled": "0"})
    owner.post(toggle, {"enabled": "0"})  # a double click leaves it off, not on again
    rule.refresh_from_db()
    assert rule.enabled is False
    assert "row-off" in owner.get(LIST).content.decode()
    owner.post(toggle, {"enabled": "1"})
    rule.refresh_from_db()
    assert rule.enabled is True


def test_it_refuses_a_toggle_that_says_neither_on_nor_off_or_is_a_get(owner, rule):
    toggle = reverse("portal:rule_toggle", args=[rule.id])
    assert owner.post(toggle).status_code == 400
    assert owner.get(toggle).status_code == 405
    rule.refresh_from_db()
    assert rule.enabled is True


def test_it_asks_before_deleting_a_rule_then_deletes_it(owner, rule):
    url = reverse("portal:rule_delete", args=[rule.id])
    assert "Delete this rule?" in owner.get(url).content.decode()
    assert ReplyRule.objects.filter(pk=rule.pk).exists()
    response = owner.post(url, follow=True)
    assert not ReplyRule.objects.filter(pk=rule.pk).exists()
    assert "Rule “Opening hours” deleted." in response.content.decode()


def test_it_lists_rules_by_priority(owner, tenant):
    services.reply_rule_create(tenant=tenant, name="Later", pattern="b", reply_text="second", priority=50)
    services.reply_rule_create(tenant=tenant, name="Sooner", pattern="a", reply_text="first", priority=1)
    body = owner.get(LIST).content.decode()
    assert body.index("Sooner") < body.index("Later")


def test_it_shows_rule_texts_escaped(owner, tenant):
    services.reply_rule_create(
        tenant=tenant, name="<script>alert(1)</script>", pattern="x", reply_text="<script>alert(2)</script>"
    )
    for url in (LIST, reverse("portal:rule_delete", args=[ReplyRule.objects.get().id])):
        body = owner.get(url).content.decode()
        assert "&lt;script&gt;" in body
        assert "<script>alert" not in body


def test_the_services_validate_before_saving(tenant, rule):
    with pytest.raises(ValidationError, match="regular expression"):
        services.reply_rule_create(tenant=tenant, match_type="REGEX", pattern="(", reply_text="x")
    with pytest.raises(ValidationError, match="something to match"):
        services.reply_rule_update(rule=rule, pattern="   ")
    assert ReplyRule.objects.get(pk=rule.pk).pattern == "hours"
    with pytest.raises(TypeError, match="tenant"):
        services.reply_rule_update(rule=rule, tenant=tenant)
