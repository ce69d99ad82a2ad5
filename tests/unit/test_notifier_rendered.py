"""What acceptance rendered is reused by the sender only for the very request it rendered."""

from __future__ import annotations

import pytest

from services.notifier.domain import render
from services.notifier.rendered import RenderedRequests
from shared.contracts import SendNotification
from tests.unit.test_notification_rendering import command

pytestmark = pytest.mark.unit


def accepted(kept: RenderedRequests, cmd: SendNotification) -> dict[str, object]:
    request = cmd.model_dump(mode="json")
    kept.put(cmd.notification_id, request, cmd, render(cmd))
    return request


def test_the_sender_gets_the_rendering_of_the_stored_request_once() -> None:
    kept = RenderedRequests()
    cmd = command("manager_escalation", "uk", role="account_manager")
    stored = accepted(kept, cmd)

    found = kept.take(cmd.notification_id, dict(stored))  # as read back from the row

    assert found is not None
    assert found.cmd == SendNotification.model_validate(stored)
    assert found.rendered == render(SendNotification.model_validate(stored))
    assert kept.take(cmd.notification_id, stored) is None  # once


def test_a_row_whose_request_changed_since_is_rendered_anew() -> None:
    kept = RenderedRequests()
    cmd = command("unknown_sender_explanation", "ru")
    stored = accepted(kept, cmd)
    released = {**stored, "recipient_verified": True}  # a released hold stores a new request

    assert kept.take(cmd.notification_id, released) is None


def test_only_the_latest_requests_are_kept() -> None:
    kept = RenderedRequests(keep=2)
    first, second, third = (
        command("manager_escalation", "en", recipient=f"m{i}@careline.example", role="head")
        for i in range(3)
    )
    requests = [accepted(kept, cmd) for cmd in (first, second, third)]

    assert kept.size() == 2
    assert kept.take(first.notification_id, requests[0]) is None
    assert kept.take(third.notification_id, requests[2]) is not None
