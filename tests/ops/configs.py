"""Reading the deployment files: the Dockerfile's instructions and nginx's syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.ops.support import OPS, REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, arguments = full.partition(" ")
        found.append((keyword.upper(), arguments.strip()))
    return found


def stages(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(stage name, its instructions) for every FROM ... AS name."""
    result: list[tuple[str, list[tuple[str, str]]]] = []
    for keyword, arguments in instructions(path):
        if keyword == "FROM":
            result.append((arguments.split()[-1], []))
        elif result:
            result[-1][1].append((keyword, arguments))
    return result


NGINX_CONF = OPS / "nginx" / "conf.d" / "default.conf"


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] = field(default_factory=list)

    def all(self, name: str) -> list[Directive]:
        return [child for child in self.block if child.name == name]

    def one(self, name: str) -> Directive:
        found = self.all(name)
        assert len(found) == 1, f"expected one {name} in {self.name} {self.args}"
        return found[0]

    def location(self, *args: str) -> Directive:
        found = [child for child in self.all("location") if child.args == list(args)]
        assert len(found) == 1, f"no location {' '.join(args)}"
        return found[0]

    def headers(self) -> dict[str, str]:
        return {d.args[0].lower(): d.args[1] for d in self.all("proxy_set_header")}


def parse(text: str) -> Directive:
    """nginx's syntax: words and quoted strings, `;` ends a directive, `{}` a block."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|#[^\n]*|[{};]|[^\s{};"\'#][^\s{};]*', text)
    root = Directive("main", [])
    stack = [root]
    words: list[str] = []
    for token in tokens:
        if token.startswith("#"):
            continue
        if token == ";":
            stack[-1].block.append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            block = Directive(words[0], words[1:])
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words and len(stack) > 1, "unbalanced braces"
            stack.pop()
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    assert len(stack) == 1 and not words, "unterminated block or directive"
    return root


def api_server() -> Directive:
    servers = parse(NGINX_CONF.read_text()).all("server")
    return next(s for s in servers if s.one("listen").args[1:] == ["default_server"])


def client_max_body_bytes() -> int:
    value = api_server().one("client_max_body_size").args[0].lower()
    units = {"k": 1024, "m": 1024 * 1024}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)
