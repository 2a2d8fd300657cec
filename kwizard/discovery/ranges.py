"""Typed host lists with Ansible-style ranges: `10.0.0.[10:20]`, `node[01:03].example.com`, `db-[a:c]`.

Range rules follow Ansible's inventory patterns: `[start:end]` or `[start:end:step]`, inclusive; numbers
keep the zero padding of `start` (which must then be as long as `end`); letters go from one letter to
another; several ranges in one pattern multiply. A token may carry `name=`, `user@` and `:port`.
"""

from __future__ import annotations

import re
import string
from dataclasses import replace

from kwizard.discovery.model import Candidate, Discovery, HostProblem
from kwizard.errors import InputError
from kwizard.roles import parse_roles
from kwizard.spec import check_address

MAX_EXPANSION = 4096  # one pattern; more is almost certainly a typo (e.g. [1:100000])
MAX_HOSTS = 4096  # a whole typed list: ten patterns of 4096 each would still freeze the hosts table
_MAX_DIGITS = 18  # more digits than any host range needs; Python refuses int() of 4,300+ digits anyway
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_SEPARATORS = re.compile(r"[\s,;]+")
_TOKEN = re.compile(r"^(?:(?P<name>[^=@\s]+)=)?(?:(?P<user>[^@\s]+)@)?(?P<rest>\S+)$")
_NAME_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$", re.IGNORECASE)


class RangeError(ValueError):
    """A malformed range pattern; the message says what is wrong and how it should look."""


def expand(pattern: str, limit: int = MAX_EXPANSION) -> list[str]:
    """Every name/address `pattern` stands for, in order; a pattern without brackets is itself."""
    if "[" not in pattern and "]" not in pattern:
        return [pattern]
    start = pattern.find("[")
    end = pattern.find("]", start + 1)
    if start < 0 or end < 0 or pattern.find("]") < start:
        raise RangeError(f"{pattern!r}: unbalanced '[' and ']' (write ranges like node[01:03])")
    inner = pattern[start + 1 : end]
    if "[" in inner:
        raise RangeError(f"{pattern!r}: ranges cannot be nested")
    head, tail = pattern[:start], pattern[end + 1 :]
    values = _range_values(pattern, inner, limit)
    tails = expand(tail, limit) if tail else [""]
    if len(values) * len(tails) > limit:
        raise RangeError(f"{pattern!r} expands to {len(values) * len(tails)} hosts; the limit is {limit}")
    return [f"{head}{value}{rest}" for value in values for rest in tails]


def size(pattern: str) -> int:
    """How many hosts `pattern` stands for at most, computed without expanding it (and without judging
    its syntax: `expand` says what is wrong with a malformed pattern)."""
    total = 1
    for inner in _BRACKETS.findall(pattern):
        parts = inner.split(":")
        begin, end = parts[0] or "0", parts[1] if len(parts) > 1 else ""
        step = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() and int(parts[2]) > 0 else 1
        if begin.isdigit() and end.isdigit():
            if max(len(begin), len(end)) > _MAX_DIGITS:
                return MAX_HOSTS + 1  # `expand` refuses it; no need to turn 5,000 digits into an int
            total *= max(1, (int(end) - int(begin)) // step + 1)
        else:
            total *= len(string.ascii_letters)  # a letter range holds at most this many
    return total


def _range_values(pattern: str, inner: str, limit: int) -> list[str]:
    parts = inner.split(":")
    if len(parts) not in (2, 3):
        raise RangeError(f"{pattern!r}: a range is [start:end] or [start:end:step], got [{inner}]")
    begin, end = parts[0] or "0", parts[1]
    step_text = parts[2] if len(parts) == 3 else "1"
    if not end:
        raise RangeError(f"{pattern!r}: the range [{inner}] has no end")
    if not step_text.isdigit() or int(step_text) < 1:
        raise RangeError(f"{pattern!r}: the step in [{inner}] must be a whole number ≥ 1")
    step = int(step_text)
    if begin.isdigit() and end.isdigit():
        if max(len(begin), len(end)) > _MAX_DIGITS:
            raise RangeError(f"{pattern!r}: the numbers in [{inner}] are far too large for a host range")
        width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
        if width and len(end) != width:
            raise RangeError(
                f"{pattern!r}: zero-padded start {begin!r} and end {end!r} must have the same length "
                f"(e.g. [{begin}:{end.zfill(width)}])"
            )
        low, high = int(begin), int(end)
        if low > high:
            raise RangeError(f"{pattern!r}: the range [{inner}] goes backwards ({low} > {high})")
        count = (high - low) // step + 1
        if count > limit:  # checked before building the list: [1:10000000000] must not eat memory
            raise RangeError(f"{pattern!r} expands to {count} hosts; the limit is {limit}")
        return [str(n).zfill(width) for n in range(low, high + 1, step)]
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        low_i, high_i = letters.index(begin), letters.index(end)
        if low_i > high_i:
            raise RangeError(f"{pattern!r}: the range [{inner}] goes backwards")
        return list(letters[low_i : high_i + 1 : step])
    raise RangeError(f"{pattern!r}: [{inner}] must be two numbers ([01:10]) or two single letters ([a:f])")


def parse_host_list(text: str, source: str = "typed") -> Discovery:
    """Candidates from free text; bad tokens → problems, the rest still count.

    Each line is either one host as `NAME ADDRESS [ROLES]` ("node1 10.0.0.11 cp,etcd"), or tokens
    separated by spaces, commas or semicolons, each `[name=][user@]address-or-range[:port]`.
    """
    candidates: list[Candidate] = []
    problems: list[HostProblem] = []
    try:
        _parse_lines(text, source, candidates, problems)
    except _TooManyHosts as exc:
        problems.append(
            HostProblem(
                exc.token,
                f"the list stands for more than {MAX_HOSTS} hosts (this pattern adds {exc.count:,})",
                "Check the ranges for a typo (e.g. [1:100000]); add very large fleets in parts.",
            )
        )
    return Discovery(tuple(candidates), tuple(problems))


class _TooManyHosts(Exception):
    def __init__(self, token: str, count: int) -> None:
        super().__init__(token)
        self.token, self.count = token, count


def _parse_lines(text: str, source: str, candidates: list[Candidate], problems: list[HostProblem]) -> None:
    """Parse `text` into `candidates` and `problems`; _TooManyHosts as soon as the total would pass
    MAX_HOSTS — before that pattern is expanded, so a typo cannot freeze the caller."""
    for line in text.splitlines():
        try:
            quick = _quick_entry(line, source)
        except (RangeError, ValueError, InputError) as exc:
            problems.append(HostProblem(line.strip(), getattr(exc, "problem", str(exc)), _QUICK_SYNTAX))
            continue
        if quick is not None:
            if len(candidates) >= MAX_HOSTS:
                raise _TooManyHosts(line.strip(), 1)
            candidates.append(quick)
            continue
        for token in (t for t in _SEPARATORS.split(line.strip()) if t):
            count = size(token.split("=", 1)[-1])  # names before `=` pair with addresses, not multiply
            # A single pattern over MAX_EXPANSION is refused by `expand` as that token's own problem.
            if count <= MAX_EXPANSION and len(candidates) + count > MAX_HOSTS:
                raise _TooManyHosts(token, count)
            try:
                candidates.extend(_parse_token(token, source))
            except (RangeError, ValueError) as exc:
                problems.append(HostProblem(token, str(exc), _HOST_SYNTAX))


def _quick_entry(line: str, source: str) -> Candidate | None:
    """`NAME ADDRESS [ROLES…]` as one host, or None when the line is not in that form.

    NAME is a bare name (no dots, brackets, `@` or `=`) and ADDRESS a single address with a dot or a
    colon, so "web1 web2" stays two hosts and "10.0.0.1 10.0.0.2" too.
    """
    words = line.split()
    if len(words) < 2 or _NAME_LIKE.match(words[0]) is None or not any(c in words[1] for c in ".:"):
        return None
    if "[" in words[1] or "=" in words[1] or _looks_like_ip(words[0]):
        return None
    roles = parse_roles(" ".join(words[2:]))
    (candidate,) = _parse_token(f"{words[0]}={words[1]}", source)
    return replace(candidate, roles=tuple(roles))


def _looks_like_ip(word: str) -> bool:
    return word.replace(".", "").isdigit()


_QUICK_SYNTAX = "One host per line as NAME ADDRESS [ROLES], e.g. node1 10.0.0.11 cp,etcd."
_HOST_SYNTAX = (
    "Write hosts like 10.0.0.5, node[01:03].example.com, admin@10.0.0.[10:12]:2222 or cp1=10.0.0.5."
)


def _parse_token(token: str, source: str) -> list[Candidate]:
    match = _TOKEN.match(token)
    if not match:
        raise ValueError(f"{token!r} is not a host")
    name, user, rest = match.group("name"), match.group("user"), match.group("rest")
    if user is not None and not _USER.match(user):
        raise ValueError(f"{user!r} is not a valid user name")
    port: int | None = None
    colons = _colons_outside_brackets(rest)
    if len(colons) == 1:  # host:port — IPv6 addresses have several colons and take no port here
        rest, port_text = rest[: colons[0]], rest[colons[0] + 1 :]
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{token!r}: port {port_text!r} must be a number from 1 to 65535")
        port = int(port_text)
    addresses = expand(rest)
    names: list[str | None]
    if name is not None and len(addresses) > 1:
        names = list(expand(name))
        if len(names) != len(addresses):
            raise ValueError(
                f"{token!r}: {len(names)} names for {len(addresses)} addresses; "
                "give the names a range of the same length"
            )
    else:
        names = [name] * len(addresses) if name else [None] * len(addresses)
    return [
        Candidate(check_address(address), name=host_name, port=port, user=user, source=source)
        for address, host_name in zip(addresses, names, strict=True)
    ]


def _colons_outside_brackets(text: str) -> list[int]:
    depth, found = 0, []
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ":" and depth == 0:
            found.append(index)
    return found
