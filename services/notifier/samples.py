"""Sample template data for every kind: `careline notify preview KIND --lang uk` and tests.

Modelled on the seed stories (000: the CEO writing from his own address about a suspension
he had paid for; 001: support breaking its promise), so a preview reads like the real thing.
"""

from __future__ import annotations

from typing import Any

# Its case reference is CL-BC69-MMKF: what the previews show (a client mail nothing else;
# a staff notice the full id too, on its last line).
ESCALATION_ID = "5b0c9a52-6f0e-5d2a-9c61-0c8f1e2a7d34"
_MANAGER_FACTS: dict[str, Any] = {
    "severity": "P2",
    "rule": "legal-threat-to-legal",
    "reason": "rule legal-threat-to-legal: legal_threat 0.90 («подам в суд»); history: "
    "suspension in 1 messages within 7d (this one not among them; at least 1); identity "
    "probable as customer cust-stroymontazh (tier gold)",
    "conditions": [
        "history: suspension in 1 messages within 7d (this one not among them; at least 1)"
    ],
    "condition_items": [
        {
            "kind": "history_markers",
            "values": {
                "names": ["suspension"],
                "count": 1,
                "within": "7d",
                "included": False,
                "at_least": 1,
            },
            "text": "history: suspension in 1 messages within 7d (this one not among them; "
            "at least 1)",
        }
    ],
    "ack_deadline": "2025-03-15T10:30:00+00:00",
    "customer": "ООО «СтройМонтаж»",
    "customer_id": "cust-stroymontazh",
    "identity_status": "probable",
    "identity_confidence": 0.65,
    "identity_evidence": [
        "sender's domain stroymontazh.ru is the corporate domain of customer cust-stroymontazh",
        "signature names contact ct-sokolov of customer cust-stroymontazh (similarity 100)",
    ],
    "identity_evidence_items": [
        {
            "kind": "corporate_domain",
            "detail": "sender's domain stroymontazh.ru is the corporate domain of customer "
            "cust-stroymontazh",
            "values": {
                "domain": "stroymontazh.ru",
                "customer_id": "cust-stroymontazh",
                "failed": "",
                "customer_name": "ООО «СтройМонтаж»",
            },
        },
        {
            "kind": "signature_name",
            "detail": "signature names contact ct-sokolov of customer cust-stroymontazh "
            "(similarity 100)",
            "values": {
                "contact_id": "ct-sokolov",
                "customer_id": "cust-stroymontazh",
                "similarity": "100",
                "contact_name": "Андрей Соколов",
                "customer_name": "ООО «СтройМонтаж»",
            },
        },
    ],
    "signals": [{"name": "legal_threat", "score": 0.9, "words": ["подам в суд"]}],
    "playbook": "Не спорить. Выяснить суть претензии, собрать факты, передать юристам.",
    "channel": "email",
    "subject": "Приостановка CRM",
    "escalation_id": ESCALATION_ID,
    "client_language": "ru",
    "playbook_client": None,
    "hold": None,
    "fact_pack": {
        "crm": {
            "customer": "ООО «СтройМонтаж»",
            "customer_id": "cust-stroymontazh",
            "tier": "gold",
            "account_manager": {"name": "Ольга Петрова", "email": "o.petrova@careline.example"},
            "registered": [
                {"kind": "email", "address": "buh@stroymontazh.ru"},
                {"kind": "phone", "address": "+7 343 555-01-18"},
            ],
            "contracts": [
                {
                    "number": "118/2019",
                    "status": "active",
                    "amount": "480000.00",
                    "currency": "RUB",
                    "plan": "Бизнес",
                    "valid_from": "2019-04-01",
                    "valid_until": "2027-03-31",
                    "in_force": True,
                    "included": [
                        {
                            "service": "консультация",
                            "quantity": 4,
                            "period": "quarter",
                            "free": True,
                        },
                        {"service": "внедрение", "quantity": 1, "period": "contract", "free": True},
                        {
                            "service": "доработка интеграций",
                            "quantity": None,
                            "period": "contract",
                            "free": False,
                        },
                    ],
                    "notes": "Доработки — по прайсу со скидкой 10 %.",
                }
            ],
            "named_services": [
                {
                    "contract": "118/2019",
                    "service": "консультация",
                    "quantity": 4,
                    "period": "quarter",
                    "free": True,
                    "words": ["консультации"],
                }
            ],
        },
        "recent_messages": [
            {
                "message_id": "0b6f3a55-6a7e-5d0e-8c1b-2f4d5e6a7b8c",
                "at": "2025-03-15T09:12:00+00:00",
                "channel": "email",
                "excerpt": "Мы оплатили счёт ещё в пятницу. Если CRM отключат, подам в суд.",
                "signals": ["legal_threat"],
            },
            {
                "message_id": "9d1e2f3a-4b5c-5d6e-8f70-8192a3b4c5d6",
                "at": "2025-03-15T08:40:00+00:00",
                "channel": "system",
                "excerpt": "Ваш платёж просрочен. Действие аккаунта будет приостановлено.",
                "signals": [],
            },
        ],
        "previous_escalations": [
            {
                "id": "3c2b1a09-8f7e-5d6c-9b0a-1f2e3d4c5b6a",
                "kind": "billing",
                "severity": "P2",
                "status": "resolved",
                "opened_at": "2025-01-20T10:00:00+00:00",
                "resolved_at": "2025-01-20T15:00:00+00:00",
                "outcome": "платёж нашёлся, напоминание отозвано",
            }
        ],
        "evidence": [
            {"signal": "legal_threat", "text": "подам в суд", "start": 50, "end": 61, "rule": "ru"}
        ],
        "identity": {
            "status": "probable",
            "confidence": 0.65,
            "contact": "Андрей Соколов",
            "evidence": [],
        },
        "marks": [],
    },
}

# A person told under two roles of three escalations one message opened (a small team:
# the account manager also answers for legal), while the client's answer waits.
_DIGEST_ITEM = {
    key: _MANAGER_FACTS[key]
    for key in (
        "rule",
        "reason",
        "ack_deadline",
        "signals",
        "conditions",
        "condition_items",
        "playbook",
        "playbook_client",
        "hold",
    )
}
_DIGEST: dict[str, Any] = {
    **{k: v for k, v in _MANAGER_FACTS.items() if k not in _DIGEST_ITEM},
    "severity": "P1",
    "roles": ["account_manager", "legal"],
    "customer_tier": "gold",
    "sender": {"email": "a.sokolov@stroymontazh.ru", "phone": None, "handle": None},
    "received_at": "2025-03-15T09:12:00+00:00",
    "message_text": "Мы оплатили счёт ещё в пятницу, а вы, сволочи, всё отключили.\n"
    "Если CRM отключат, подам в суд.",
    "answer_held": {
        "confirmation_id": "0b6c9a52-4a4e-5d0c-9f3e-2f1d6c7b8a90",
        "expires_at": "2025-03-17T09:12:00+00:00",
        "kinds": ["billing_dispute_ack"],
    },
    "escalations": [
        {
            **_DIGEST_ITEM,
            "escalation_id": "7c1d2e3f-4a5b-5c6d-8e9f-0a1b2c3d4e5f",
            "kind": "billing",
            "severity": "P1",
            "level": 1,
            "change": "opened",
            "rule": "billing-dispute-suspension-pending",
            "reason": "rule billing-dispute-suspension-pending: billing_dispute 0.85 "
            "(«оплатили счёт»); history: suspension within 7d",
            "ack_deadline": "2025-03-15T09:27:00+00:00",
            "signals": [{"name": "billing_dispute", "score": 0.85, "words": ["оплатили счёт"]}],
            "playbook": "Клиент говорит, что оплатил. Приостановку отложить до проверки.",
            "roles": ["account_manager"],
            "ack_url": "https://support.careline.example/v1/escalations/ack/billing-link",
        },
        {
            **_DIGEST_ITEM,
            "escalation_id": ESCALATION_ID,
            "kind": "legal",
            "severity": "P2",
            "level": 1,
            "change": "opened",
            "roles": ["legal"],
            "ack_url": "https://support.careline.example/v1/escalations/ack/legal-link",
        },
        {
            **_DIGEST_ITEM,
            "escalation_id": "2e3f4a5b-6c7d-5e8f-9a0b-1c2d3e4f5a6b",
            "kind": "abuse",
            "severity": "P3",
            "level": 2,
            "change": "merged",
            "rule": "abuse-repeated-to-supervisor",
            "reason": "rule abuse-repeated-to-supervisor: abuse 0.80 («сволочи»)",
            "ack_deadline": "2025-03-15T13:12:00+00:00",
            "signals": [{"name": "abuse", "score": 0.8, "words": ["сволочи"]}],
            "playbook": "Не отвечать тем же. Предупредить, продолжить по почте.",
            "roles": ["account_manager"],
            "ack_url": None,
        },
    ],
}

SAMPLES: dict[str, dict[str, Any]] = {
    "identity_confirmation": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Приостановка CRM",
        "received_at": "2025-03-15T09:12:00+00:00",
        "channel": "email",
        "escalation_id": ESCALATION_ID,
        "sender_address": "a.sokolov@stroymontazh.ru",
        "files_under": "Андрей Соколов",
        "confirmation_code": "OK-HDZJ-LV2D",
        "confirmation_url": "https://support.careline.example/confirm/7f3a9c",
        "confirmation_expires_at": "2025-03-17T09:12:00+00:00",
    },
    "unknown_sender_explanation": {"subject": "Приостановка CRM"},
    "stranger_explanation": {"subject": "Не работает выгрузка отчётов"},
    # A panicking client: "a specialist contacts you within 10 minutes" (the rule's).
    "panic_ack": {
        "subject": "ПОМОГИТЕ, всё пропало",
        "escalation_id": ESCALATION_ID,
        "within_minutes": 10,
        "unknown_sender": False,
    },
    # A client's threat names the account manager: told to her, apart from the case.
    "staff_threatened": {
        "escalation_id": ESCALATION_ID,
        "kind": "violence",
        "severity": "P1",
        "customer": "ООО «СтройМонтаж»",
        "customer_id": "cust-stroymontazh",
        "channel": "email",
        "subject": "Верните деньги за контент",
        "received_at": "2025-03-15T09:12:00+00:00",
        "by": "name",
        "signals": ["violence_threat"],
        "words": ["знаю, где вы живёте"],
        "holders": ["security", "head_of_support"],
    },
    "conduct_notice": {
        "subject": "Верните деньги за контент",
        "paused": True,
        "escalation_id": ESCALATION_ID,
    },
    "service_failure_notice": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Обещали исправить экспорт к пятнице",
        "received_at": "2025-03-15T09:12:00+00:00",
        "ack_deadline": "2025-03-15T13:12:00+00:00",
        "reply_by": "2025-03-17T14:00:00+00:00",
        "account_manager": "Ольга Петрова",
        "problems": [
            "Вы обещали исправить экспорт к пятнице, а он так и не работает.",
            "Третий раз за квартал отчёты пропадают после вашего обновления.",
        ],
        "escalation_id": ESCALATION_ID,
    },
    # Round 32: a plain outage report, answered without admitting a failure not established.
    "outage_report_ack": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Не работает интернет",
        "received_at": "2025-03-15T09:12:00+00:00",
        "ack_deadline": "2025-03-15T13:12:00+00:00",
        "reply_by": "2025-03-17T14:00:00+00:00",
        "account_manager": "Ольга Петрова",
        "problems": ["С утра в офисе не работает интернет."],
        "escalation_id": ESCALATION_ID,
    },
    "promise_delay_notice": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Обещали исправить экспорт к пятнице",
        "received_at": "2025-03-15T09:12:00+00:00",
        "promised": "2025-03-17T14:00:00+00:00",
        "reply_by": "2025-03-18T14:00:00+00:00",
        "account_manager": "Ольга Петрова",
        "senior": True,
        "escalation_id": ESCALATION_ID,
    },
    "billing_dispute_ack": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Приостановка CRM",
        "received_at": "2025-03-15T09:12:00+00:00",
        "ack_deadline": "2025-03-15T10:12:00+00:00",
        "reply_by": "2025-03-15T13:12:00+00:00",
        "account_manager": "Ольга Петрова",
        "sender_address": "a.sokolov@stroymontazh.ru",
        "references": ["счёт 2025-0412"],
        "escalation_id": ESCALATION_ID,
    },
    # Seed 002: "another manager did it for free", from the client's registered address.
    "request_ack": {
        "customer": "ТОВ «Квітка»",
        "subject": "Налаштування",
        "received_at": "2025-03-15T09:12:00+00:00",
        "ack_deadline": "2025-03-15T13:12:00+00:00",
        "reply_by": "2025-03-17T14:00:00+00:00",
        "account_manager": "Тарас Коваленко",
        "sender_address": None,
        "sender_by_email": True,
        "asked_for": "free_service",
        "claims": [
            "Інший менеджер зробив нам налаштування безкоштовно, а тепер ви виставляєте рахунок."
        ],
        "escalation_id": ESCALATION_ID,
    },
    "manager_escalation": {
        **_MANAGER_FACTS,
        "kind": "legal",
        # The client's rate limit holds the acknowledgement (client_waits.py).
        "client_contacts_sent": {
            "kinds": ["billing_dispute_ack"],
            "waits": [
                {
                    "kinds": ["billing_dispute_ack"],
                    "until": "2025-03-15T10:05:00+00:00",
                    "reason": "rate_limit",
                    "limit": {"count": 5, "seconds": 3600},
                }
            ],
        },
    },
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
    "staff_digest": _DIGEST,
}

# One message that reports a failure and disputes a charge (seed 001): its two answers, as
# the two escalations would send them alone, in one mail.
_FAILURE = SAMPLES["service_failure_notice"]
SAMPLES["client_digest"] = {
    **{k: _FAILURE[k] for k in ("customer", "subject", "received_at", "account_manager")},
    "channel": "email",
    "sender_address": None,
    "parts": [
        {
            "notification_id": "0d7e4b1c-1f0a-5a57-8f5e-3c2b9d6a4e10",
            "escalation_id": ESCALATION_ID,
            "kind": "service_failure_notice",
            "severity": "P2",
            "data": _FAILURE,
        },
        {
            "notification_id": "6a1f2c3d-4b5e-5f60-9a7b-8c9d0e1f2a3b",
            "escalation_id": "9e2d1c0b-7a6f-5e4d-8c3b-2a1f0e9d8c7b",
            "kind": "billing_dispute_ack",
            "severity": "P3",
            "data": {
                **SAMPLES["billing_dispute_ack"],
                "subject": _FAILURE["subject"],
                "sender_address": None,
                "claim": "charge",
                "escalation_id": "9e2d1c0b-7a6f-5e4d-8c3b-2a1f0e9d8c7b",
            },
        },
    ],
}

# Seed 000: the bookkeeper at the registered address confirmed the CEO's own address.
SAMPLES["confirmation_receipt"] = {
    **{
        k: SAMPLES["identity_confirmation"][k]
        for k in ("customer", "subject", "received_at", "sender_address")
    },
    "sender_by_email": True,
    "channel": "email",
    "outcome": "confirmed",
    "answered_at": "2025-03-15T10:02:00+00:00",
}

# Seed 000, later: the bookkeeper confirmed the director's new address, then answers the
# payment-details mail «Это не мы!», and no case of the client is open to hear it.
SAMPLES["identity_alert"] = {
    "customer": "ООО «СтройМонтаж»",
    "customer_id": "cust-stroymontazh",
    "address": "director@stroymontazh.ru",
    "confirmation_id": "5b7e2f0a-1c3d-5e4f-8a9b-0c1d2e3f4a5b",
    "confirmation_code": "OK-7H3K-Q9PX",
    "answered_by": "buh@stroymontazh.ru",
    "said": "Это не мы! Ничего не меняйте.",
    "subject": "Re: Смена реквизитов",
    "received_at": "2025-03-16T08:40:00+00:00",
    "team_timezone": "Europe/Moscow",
    "stand_in_for": None,
}

# Seed 000, at last: staff called the bookkeeper, the director's "new address" was not his,
# and took it back (`careline crm revoke`): the manager holding the billing case hears it.
REVOKED_ALERT = {
    **{k: SAMPLES["identity_alert"][k] for k in ("customer", "customer_id", "address")},
    "occasion": "revoked",
    "confirmation_id": SAMPLES["identity_alert"]["confirmation_id"],
    "revoked_by": "Ольга Петрова",
    "revoked_at": "2025-03-16T09:15:00+00:00",
    "confirmations": [
        {
            "address": SAMPLES["identity_alert"]["address"],
            "confirmed_at": "2025-03-14T11:02:00+00:00",
            "confirmation_id": SAMPLES["identity_alert"]["confirmation_id"],
        }
    ],
    "registered": [
        {"kind": "email", "address": "buh@stroymontazh.ru"},
        {"kind": "phone", "address": "+7 495 123-45-67"},
    ],
    "cases": [
        {
            "escalation_id": ESCALATION_ID,
            "kind": "billing",
            "severity": "P2",
            "promise_to": "buh@stroymontazh.ru",
            "client_reply_by": "2025-03-17T12:00:00+00:00",
        }
    ],
    "team_timezone": "Europe/Moscow",
    "stand_in_for": None,
}

# Seed 001: the manager read «Клиенту написано автоматически: сообщение о сбое», then the
# client's mail server refused the notice for good (undelivered.py).
SAMPLES["client_mail_undelivered"] = {
    "kinds": ["service_failure_notice"],
    "why": "refused_by_server",
    "escalations": [ESCALATION_ID],
    "customer": "ООО «СтройМонтаж»",
    "client_notification_id": "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f607",
}
