"""The escalator service's commands of the `careline` CLI (wired in shared/cli.py)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

IdArgument = Annotated[
    str, typer.Argument(help="The escalation's reference (CL-XXXX-XXXX, as notices say) or id.")
]
ByOption = Annotated[
    str,
    typer.Option("--by", help="Your address, as the escalation notified you (or webhook:NAME)."),
]
RoleOption = Annotated[
    str | None, typer.Option("--role", help="The role you were notified as (if several).")
]
TimeoutOption = Annotated[float, typer.Option(help="Seconds to wait for the escalator's answer.")]
LexiconOption = Annotated[
    Path | None,
    typer.Option(help="Main lexicon file to use instead of the shipped one (for trying edits)."),
]
OpinionOption = Annotated[
    bool,
    typer.Option(help="With the statistical second opinion, as the escalator runs by default."),
]


def register(app: typer.Typer) -> None:
    """Add this service's commands to the main `careline` app."""
    app.command("classify")(classify)
    app.command("classify-eval")(classify_eval)
    app.command("classify-bench")(classify_bench)
    app.command("opinion-train")(opinion_train)
    app.command("ack")(acknowledge)
    app.command("resolve")(resolve)
    app.command("reassign")(reassign)
    app.command("client-reply")(client_reply)
    app.command("warned")(warned)
    policy_app = typer.Typer(help="Check the routing policy and see what it does with a message.")
    policy_app.command("check")(policy_check)
    policy_app.command("explain")(policy_explain)
    app.add_typer(policy_app, name="policy")


def _lines(source: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(source, 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise typer.BadParameter(f"line {number}: not JSON: {exc}") from exc


def _open(file: str) -> TextIO:
    if file == "-":
        return sys.stdin
    path = Path(file)
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {file}")
    return path.open(encoding="utf-8")


def _lexicon(path: Path | None) -> Any:
    from services.escalator.detection import load_lexicon

    return load_lexicon(path) if path else load_lexicon()


def _opinions(enabled: bool) -> Any:
    """As the escalator would run it here (ESCALATOR_SECOND_OPINION, its threshold)."""
    from services.escalator.detection.statistical import opinions
    from services.escalator.settings import EscalatorSettings

    settings = EscalatorSettings()
    return opinions(enabled and settings.second_opinion, settings.second_opinion_threshold)


def classify(
    file: Annotated[str, typer.Argument(help="JSON Lines with id and text, or - for stdin.")] = "-",
    lexicon: LexiconOption = None,
    opinion: OpinionOption = True,
) -> None:
    """Detect signals in JSON lines: one {"id", "language", "signals"} line per input."""
    from services.escalator.detection.batch import BadRow, classify_row

    loaded, found = _lexicon(lexicon), _opinions(opinion)
    with _open(file) as source:
        for number, row in _lines(source):
            try:
                out = classify_row(row, loaded, found)
            except BadRow as exc:
                raise typer.BadParameter(f"line {number}: {exc}") from exc
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


def classify_eval(
    file: Annotated[Path, typer.Argument(help="Labelled JSON Lines (id, text, labels).")],
    lexicon: LexiconOption = None,
    errors: Annotated[bool, typer.Option(help="Also list every missed and false signal.")] = False,
    opinion: OpinionOption = True,
) -> None:
    """Per-signal precision, recall and F1, micro and macro averages, against labels."""
    from services.escalator.detection import detect
    from services.escalator.detection.evaluation import evaluate

    loaded, found = _lexicon(lexicon), _opinions(opinion)
    with _open(str(file)) as source:
        rows = [row for _, row in _lines(source)]

    def names(row: Mapping[str, Any]) -> set[str]:
        signals = detect(row["text"], loaded, language=row.get("language"), opinions=found)
        return {s.name for s in signals}

    report = evaluate(rows, names)
    typer.echo(report.table())
    if errors:
        for mistake in report.mistakes:
            typer.echo(f"{mistake.kind:<7} {mistake.signal:<20} {mistake.id}")


def opinion_train(
    files: Annotated[list[Path], typer.Argument(help="Labelled JSON Lines (text, labels).")],
    out: Annotated[Path | None, typer.Option(help="Where to write the model.")] = None,
) -> None:
    """Train the statistical second opinion on labelled files (docs/detection.md lists the
    shipped model's); the file the escalator reads unless `--out` says otherwise."""
    from services.escalator.detection.statistical import OPINION_PATH
    from services.escalator.detection.training import fit, save

    rows: list[dict[str, Any]] = []
    trained_on: dict[str, int] = {}
    for file in files:
        with _open(str(file)) as source:
            found = [row for _, row in _lines(source)]
        rows += found
        trained_on[file.name] = len(found)
    target = out or OPINION_PATH
    save(fit(rows).arrays(), target, trained_on)
    typer.echo(f"trained on {len(rows)} messages ({', '.join(trained_on)}): {target}")


def classify_bench(
    files: Annotated[list[Path], typer.Argument(help="JSON Lines whose texts seed messages.")],
    messages: Annotated[int, typer.Option(help="How many 50-150-word messages.")] = 5000,
    opinion: OpinionOption = True,
) -> None:
    """Start-up time and single-core throughput of the detector (run it pinned to one
    core, e.g. `taskset -c 0 careline classify-bench ...`)."""
    started = time.perf_counter()
    from services.escalator.detection import load_lexicon
    from services.escalator.detection.batch import measure, typical_messages

    lexicon, found = load_lexicon(), _opinions(opinion)
    startup = time.perf_counter() - started
    texts: list[str] = []
    for file in files:
        with _open(str(file)) as source:
            texts += [row["text"] for _, row in _lines(source)]
    corpus = list(typical_messages(texts, messages))
    cold = measure(corpus, lexicon, found)  # first pass fills the lemma cache
    warm = measure(corpus, lexicon, found)
    typer.echo(f"start-up (dictionaries, lexicon{', opinion' if opinion else ''}): {startup:.2f} s")
    for name, run in (("first pass", cold), ("steady state", warm)):
        typer.echo(
            f"{name}: {run.messages} messages, {run.words / run.messages:.0f} words avg, "
            f"{run.per_second:,.0f} msg/s ({run.per_cpu_second:,.0f} per CPU second)"
        )


def _act(
    kind: Any, escalation_id: str, by: str, role: str | None, timeout: float, **fields: Any
) -> None:
    """Send a staff command of `kind` about an escalation, by someone, and say the outcome."""
    from shared.settings import CarelineSettings

    from .request import request_command

    command = kind(
        command_id=uuid.uuid4(),
        escalation_id=escalation_id_of(escalation_id),
        actor=by,
        actor_role=role,
        **fields,
    )
    result = asyncio.run(request_command(CarelineSettings(), command, timeout))
    typer.echo(f"{result.outcome}: {result.detail}")
    done = ("acknowledged", "resolved", "reassigned", "recorded", "already_acknowledged")
    if result.outcome not in done:
        raise typer.Exit(1)


def escalation_id_of(value: str) -> uuid.UUID:
    """The escalation a person named: its id as it is, or its case reference (CL-XXXX-XXXX)
    looked up, read-only, in the escalator's database (as `careline escalation` reads it):
    the escalator answers commands by id. A reference no escalation has exits 1; one that
    several have (two ids sharing their first 40 bits) lists them all and exits 1, for the
    person to give the full id of theirs: a command never guesses which case it acts on."""
    from shared.case_ref import NotACaseRef, normalized

    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        ref = normalized(value)
    except NotACaseRef as exc:
        raise typer.BadParameter(
            f"not an escalation reference (CL-XXXX-XXXX) or id: {value}"
        ) from exc
    found = asyncio.run(_by_ref(ref))
    if not found:
        typer.echo(f"no escalation {ref}", err=True)
        raise typer.Exit(1)
    if len(found) > 1:
        typer.echo(f"{len(found)} escalations have the reference {ref}; give the id:", err=True)
        for row in found:
            typer.echo(
                f"  {row['id']}  {row['opened_at']:%Y-%m-%d %H:%M} UTC {row['severity']} "
                f"{row['kind']} {row['status']} {row['subject_key']}",
                err=True,
            )
        raise typer.Exit(1)
    return uuid.UUID(str(found[0]["id"]))


async def _by_ref(ref: str) -> list[dict[str, Any]]:
    from shared.db import in_one_transaction
    from shared.settings import CarelineSettings

    from .listing import escalations_by_ref

    return await in_one_transaction(
        CarelineSettings().database_url, lambda session: escalations_by_ref(session, ref)
    )


def acknowledge(
    escalation_id: IdArgument, by: ByOption, role: RoleOption = None, timeout: TimeoutOption = 5.0
) -> None:
    """Acknowledge an escalation you were notified of: its deadline stops climbing."""
    from shared.contracts import AcknowledgeEscalation

    _act(AcknowledgeEscalation, escalation_id, by, role, timeout)


def resolve(
    escalation_id: IdArgument,
    by: ByOption,
    note: Annotated[str, typer.Option(help="What was done: the outcome, for the record.")],
    role: RoleOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Resolve an escalation you were notified of, with a note."""
    from shared.contracts import ResolveEscalation

    _act(ResolveEscalation, escalation_id, by, role, timeout, note=note)


def reassign(
    escalation_id: IdArgument,
    by: ByOption,
    to: Annotated[str, typer.Option("--to", help="The role to hand it to, e.g. billing.")],
    address: Annotated[
        str | None, typer.Option(help="Address of that role (default: the policy's).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why it is handed over.")] = None,
    role: RoleOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Hand an escalation you were notified of to another role; it is notified anew."""
    from shared.contracts import ReassignEscalation

    _act(
        ReassignEscalation,
        escalation_id,
        by,
        role,
        timeout,
        to_role=to,
        to_address=address,
        note=note,
    )


def client_reply(
    escalation_id: IdArgument,
    by: ByOption,
    new_date: Annotated[
        datetime | None,
        typer.Option(
            help="The new date you told the client (ISO, with its zone, e.g. "
            "2026-12-08T15:00+03:00); leave out when the client has the answer.",
            formats=["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M%z"],
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="What the client was told.")] = None,
    role: RoleOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Record that you answered the client (the promise is kept), or told them a new date
    (Careline tells the client of a delay only if that date passes too)."""
    from shared.contracts import RecordClientReply

    _act(RecordClientReply, escalation_id, by, role, timeout, new_date=new_date, note=note)


def warned(
    escalation_id: IdArgument,
    by: ByOption,
    note: Annotated[str | None, typer.Option(help="What you told the client.")] = None,
    role: RoleOption = None,
    timeout: TimeoutOption = 5.0,
) -> None:
    """Record that you warned the client in person (chat, phone) that such talk must stop:
    later threats then count as after a warning."""
    from shared.contracts import RecordWarning

    _act(RecordWarning, escalation_id, by, role, timeout, note=note)


def policy_check(
    file: Annotated[Path, typer.Argument(help="The policy YAML file to validate.")],
) -> None:
    """Validate a policy file: every problem with its line, column and field; exit 1 if any."""
    from services.escalator.policy_check import check_policy

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from exc
    policy, problems = check_policy(text)
    for problem in problems:
        typer.echo(problem.describe(str(file)), err=True)
    if policy is None:
        raise typer.Exit(1)
    typer.echo(f"{file}: valid, {len(policy.rules)} rules")


def policy_explain(
    file: Annotated[str, typer.Argument(help="IdentityVerified or MessageNormalized JSON, or -.")],
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy file instead of the shipped one.")
    ] = None,
    identity_file: Annotated[
        Path | None,
        typer.Option("--identity", help="Identity JSON to use (a bare message is unknown)."),
    ] = None,
    history_file: Annotated[
        Path | None,
        typer.Option("--history", help="The subject's History as JSON (see docs/escalations.md)."),
    ] = None,
    from_db: Annotated[
        bool,
        typer.Option("--db", help="Read the subject's history from the escalator's database."),
    ] = False,
    at: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S"],
            help="The moment to decide at (ISO, with offset; default now).",
        ),
    ] = None,
    opinion: OpinionOption = True,
) -> None:
    """Which rules the message would fire, with the signals (words), identity, time and
    history facts that made them match."""
    from pydantic import ValidationError

    from services.escalator.history import History
    from services.escalator.policy import POLICY_PATH, load_policy
    from services.escalator.policy_explain import NotAMessage, explain, read_input, render
    from shared.contracts import Identity

    if history_file is not None and from_db:
        raise typer.BadParameter("give --history or --db, not both")
    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a moment without an offset is read as UTC
    try:
        with _open(file) as source:
            data = json.load(source)
        identity = None
        if identity_file is not None:
            identity = Identity.model_validate_json(identity_file.read_bytes())
        message, identity = read_input(data, identity)
        policy = load_policy(policy_file or POLICY_PATH)
        history, origin = History(), "none given: an empty history"
        if history_file is not None:
            history = History.model_validate_json(history_file.read_bytes())
            origin = f"from {history_file}"
    except (json.JSONDecodeError, ValidationError, NotAMessage, OSError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if from_db:
        history = asyncio.run(_history_from_db(message, identity, moment, policy))
        origin = "from the escalator's database"
    found = _opinions(opinion)
    typer.echo(render(explain(policy, message, identity, moment, history, origin, found)))


async def _history_from_db(message: Any, identity: Any, at: datetime, policy: Any) -> Any:
    from services.escalator.history_store import load_history
    from services.escalator.notifications import subject_key
    from services.escalator.policy_explain import as_verified
    from shared.db import in_one_transaction
    from shared.settings import CarelineSettings

    key = subject_key(as_verified(message, identity))
    return await in_one_transaction(
        CarelineSettings().database_url,
        lambda session: load_history(session, key, at - policy.history_lookback),
    )
