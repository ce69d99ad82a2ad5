"""Sample template data for every kind: `careline notify preview KIND --lang uk` and tests.

Modelled on the seed stories (000: the CEO writing from his own address about a suspension
he had paid for; 001: support breaking its promise), so a preview reads like the real thing.
"""

from __future__ import annotations

from typing import Any

ESCALATION_ID = "5b0c9a52-6f0e-5d2a-9c61-0c8f1e2a7d34"
_MANAGER_FACTS: dict[str, Any] = {
    "severity": "P2",
    "rule": "legal-threat-to-legal",
    "reason": "rule legal-threat-to-legal: legal_threat 0.90 («подам в суд»); identity probable "
    "as customer cust-stroymontazh (tier gold)",
    "ack_deadline": "2025-03-15T10:30:00+00:00",
    "customer": "ООО «СтройМонтаж»",
    "customer_id": "cust-stroymontazh",
    "identity_status": "probable",
    "identity_confidence": 0.55,
    "identity_evidence": [
        "sender's domain stroymontazh.ru is the corporate domain of customer cust-stroymontazh"
    ],
    "signals": [{"name": "legal_threat", "score": 0.9, "words": ["подам в суд"]}],
    "playbook": "Не спорить. Выяснить суть претензии, собрать факты, передать юристам.",
    "channel": "email",
    "subject": "Приостановка CRM",
    "escalation_id": ESCALATION_ID,
}

SAMPLES: dict[str, dict[str, Any]] = {
    "identity_confirmation": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Приостановка CRM",
        "received_at": "2025-03-15T09:12:00+00:00",
        "channel": "email",
        "escalation_id": ESCALATION_ID,
        "sender_address": "a.sokolov@stroymontazh.ru",
        "confirmation_code": "482913",
        "confirmation_url": "https://support.careline.example/confirm/7f3a9c",
        "confirmation_expires_at": "2025-03-17T09:12:00+00:00",
    },
    "unknown_sender_explanation": {"subject": "Приостановка CRM"},
    "service_failure_notice": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Обещали исправить экспорт к пятнице",
        "received_at": "2025-03-15T09:12:00+00:00",
        "ack_deadline": "2025-03-15T13:12:00+00:00",
        "account_manager": "Ольга Петрова",
        "escalation_id": ESCALATION_ID,
    },
    "billing_dispute_ack": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Приостановка CRM",
        "received_at": "2025-03-15T09:12:00+00:00",
        "ack_deadline": "2025-03-15T10:12:00+00:00",
        "account_manager": "Ольга Петрова",
        "sender_address": "a.sokolov@stroymontazh.ru",
        "references": ["счёт 2025-0412"],
        "escalation_id": ESCALATION_ID,
    },
    "manager_escalation": {**_MANAGER_FACTS, "kind": "legal"},
    "legal_notice": {
        **_MANAGER_FACTS,
        "kind": "legal",
        "customer_tier": "gold",
        "sender": {"email": "a.sokolov@stroymontazh.ru", "phone": None, "handle": None},
        "received_at": "2025-03-15T09:12:00+00:00",
        "message_text": "Мы оплатили счёт ещё в пятницу.\nЕсли CRM отключат, подам в суд.",
    },
    "re_escalation": {
        **_MANAGER_FACTS,
        "kind": "legal",
        "level": 2,
        "overdue_since": "2025-03-15T10:30:00+00:00",
        "previous_roles": ["legal", "head_of_support"],
    },
}
