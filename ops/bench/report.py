"""The table of ops/bench/run.sh: figures and their ratios to the baseline, as text
(stdout), as Markdown and as an SVG bar chart of the throughput ratios.

    python -m ops.bench.report --results R.tsv --servers S.tsv --ops "me users ..." \
        [--compare users_total=users ...] [--note TEXT ...] [--markdown F.md] [--svg F.svg]

R.tsv: one line per measured row, tab-separated: server, workload, ok responses, errors,
ok req/s, p50 ms, p99 ms, max ms, peak VmRSS KiB sampled during the row. S.tsv: one
line per server: id, label, VmHWM KiB at the end of the run, 1 for the baseline else 0.
A workload is compared with the baseline's row of the same workload, or with the one
--compare names (users_total=users). Ratios are server ÷ baseline for every figure:
above 1 is more requests per second, but slower latencies and more memory."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

MIB = 1024.0


@dataclass(frozen=True, slots=True)
class Row:
    server: str
    op: str
    ok: int
    errors: int
    rps: float
    p50: float
    p99: float
    max: float
    rss_kib: int


@dataclass(frozen=True, slots=True)
class Server:
    id: str
    label: str
    hwm_kib: int
    baseline: bool


@dataclass(frozen=True, slots=True)
class Line:
    """One printed row: a measured row and the baseline row it is compared with."""

    row: Row
    server: Server
    base: Row | None

    def ratio(self, field: str) -> float | None:
        if self.base is None:
            return None
        mine, theirs = float(getattr(self.row, field)), float(getattr(self.base, field))
        return mine / theirs if theirs > 0 else None


def read_rows(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        server, op, ok, errors, rps, p50, p99, top, rss = line.split("\t")
        rows.append(
            Row(
                server,
                op,
                int(ok),
                int(errors),
                float(rps),
                float(p50),
                float(p99),
                float(top),
                int(rss or 0),
            )
        )
    return rows


def read_servers(path: Path) -> list[Server]:
    servers = []
    for line in path.read_text().splitlines():
        if line.strip():
            sid, label, hwm, baseline = line.split("\t")
            servers.append(Server(sid, label, int(hwm or 0), baseline == "1"))
    return servers


def lines_of(
    rows: list[Row], servers: list[Server], ops: list[str], compare: dict[str, str]
) -> list[Line]:
    by_id = {server.id: server for server in servers}
    base_ids = [server.id for server in servers if server.baseline]
    base_rows = {row.op: row for row in rows if row.server in base_ids}
    order = {server.id: n for n, server in enumerate(servers)}
    lines = []
    for op in ops:
        for row in sorted((r for r in rows if r.op == op), key=lambda r: order[r.server]):
            base = base_rows.get(compare.get(op, op))
            lines.append(Line(row, by_id[row.server], base))
    return lines


def _number(value: float) -> str:
    return f"{value:,.1f}" if value < 100_000 else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def _workload(op: str, compare: dict[str, str]) -> str:
    return f"{op} (vs {compare[op]})" if op in compare else op


HEADERS = (
    "workload",
    "server",
    "ok req/s",
    "x base",
    "p50 ms",
    "x base",
    "p99 ms",
    "x base",
    "errors",
    "peak RSS MiB",
    "x base",
)


def cells(line: Line, compare: dict[str, str]) -> list[str]:
    row = line.row
    return [
        _workload(row.op, compare),
        line.server.label,
        _number(row.rps),
        _ratio(line.ratio("rps")),
        _number(row.p50),
        _ratio(line.ratio("p50")),
        _number(row.p99),
        _ratio(line.ratio("p99")),
        str(row.errors),
        f"{row.rss_kib / MIB:.1f}" if row.rss_kib else "—",
        _ratio(line.ratio("rss_kib")) if row.rss_kib else "—",
    ]


def text_table(lines: list[Line], compare: dict[str, str]) -> str:
    table = [list(HEADERS), *(cells(line, compare) for line in lines)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
    out = []
    for r in table:
        left = [r[i].ljust(widths[i]) for i in range(2)]
        right = [r[i].rjust(widths[i]) for i in range(2, len(r))]
        out.append("  ".join(left + right).rstrip())
    return "\n".join(out)


def markdown_table(lines: list[Line], compare: dict[str, str]) -> str:
    out = [
        "| " + " | ".join(HEADERS) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in HEADERS[2:]) + " |",
    ]
    for line in lines:
        row = cells(line, compare)
        op = line.row.op
        row[0] = f"`{op}` (vs `{compare[op]}`)" if op in compare else f"`{op}`"
        if line.server.baseline:
            row[1] = f"*{row[1]}*"
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def memory_summary(servers: list[Server]) -> str:
    return ", ".join(f"{s.label} {s.hwm_kib / MIB:.1f} MiB" for s in servers if s.hwm_kib)


# --- the chart ---

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def svg_chart(lines: list[Line], servers: list[Server], title: str, compare: dict[str, str]) -> str:
    """Horizontal bars of ok req/s ÷ baseline per workload and service variant, on a
    log scale (ratios span orders of magnitude); the line at 1 is the baseline."""
    measured = [(line, line.ratio("rps")) for line in lines if not line.server.baseline]
    bars = [(line, ratio) for line, ratio in measured if ratio is not None and ratio > 0]
    variants = [s for s in servers if not s.baseline]
    color = {s.id: COLORS[n % len(COLORS)] for n, s in enumerate(variants)}
    ratios = [ratio for _, ratio in bars] or [1.0]
    # Whole decades, from below the smallest ratio to 1 (or above the largest).
    low = 10.0 ** math.floor(math.log10(min(min(ratios), 1.0)))
    high = 10.0 ** max(0, math.ceil(math.log10(max(ratios))))
    if high <= low:
        low = high / 10
    left, plot, right = 180, 480, 80
    bar, gap, group_gap, top = 16, 3, 14, 64
    workloads: list[str] = []
    for line, _ in bars:
        if line.row.op not in workloads:
            workloads.append(line.row.op)
    height = (
        top
        + 40
        + sum(
            group_gap + sum(bar + gap for line, _ in bars if line.row.op == op) for op in workloads
        )
    )
    width = left + plot + right

    def x(value: float) -> float:
        span = math.log10(high) - math.log10(low)
        return left + plot * (math.log10(value) - math.log10(low)) / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<text x="{width / 2}" y="38" text-anchor="middle" fill="#555">ok req/s of the '
        "service ÷ ok req/s of the bare baseline (log scale; 1 = as fast as the baseline)</text>",
    ]
    # Legend.
    lx = left
    for server in variants:
        out.append(f'<rect x="{lx}" y="46" width="10" height="10" fill="{color[server.id]}"/>')
        out.append(f'<text x="{lx + 14}" y="55">{escape(server.label)}</text>')
        lx += 24 + 7 * len(server.label)
    bottom = height - 30
    # Grid: 1, 2, 5 per decade.
    decade = low
    while decade <= high * 1.0001:
        for step in (1, 2, 5):
            value = decade * step
            if value > high * 1.0001:
                break
            gx = x(value)
            stroke = "#999" if step == 1 else "#e0e0e0"
            out.append(
                f'<line x1="{gx:.1f}" y1="{top}" x2="{gx:.1f}" y2="{bottom}" stroke="{stroke}"/>'
            )
            out.append(
                f'<text x="{gx:.1f}" y="{bottom + 14}" text-anchor="middle" fill="#555">'
                f"{value:g}</text>"
            )
        decade *= 10
    one = x(1.0)
    out.append(
        f'<line x1="{one:.1f}" y1="{top - 4}" x2="{one:.1f}" y2="{bottom}" stroke="black" '
        'stroke-width="1.5"/>'
    )
    y = top + group_gap / 2
    for op in workloads:
        group = [(line, ratio) for line, ratio in bars if line.row.op == op]
        group_height = len(group) * (bar + gap)
        out.append(
            f'<text x="{left - 8}" y="{y + group_height / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(_workload(op, compare))}</text>"
        )
        for line, ratio in group:
            end = x(ratio)
            out.append(
                f'<rect x="{left}" y="{y:.1f}" width="{max(end - left, 1):.1f}" height="{bar}" '
                f'fill="{color[line.server.id]}"><title>{escape(line.server.label)}: '
                f"{_ratio(ratio)}</title></rect>"
            )
            out.append(
                f'<text x="{end + 4:.1f}" y="{y + bar - 4:.1f}">{_ratio(ratio)}&#215;</text>'
            )
            y += bar + gap
        y += group_gap
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--servers", type=Path, required=True)
    parser.add_argument("--ops", required=True)
    parser.add_argument("--compare", action="append", default=[], metavar="OP=BASE_OP")
    parser.add_argument("--title", default="GlassShop API vs a bare Starlette + asyncpg baseline")
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--svg", type=Path)
    args = parser.parse_args()

    compare = dict(item.split("=", 1) for item in args.compare)
    servers = read_servers(args.servers)
    lines = lines_of(read_rows(args.results), servers, args.ops.split(), compare)
    memory = memory_summary(servers)
    print(text_table(lines, compare))
    if memory:
        print(f"\npeak RSS (VmHWM) at the end of the run: {memory}")
    if args.svg:
        args.svg.write_text(svg_chart(lines, servers, args.title, compare))
    if args.markdown:
        parts = [f"### {args.title}", "", *args.note, "", markdown_table(lines, compare), ""]
        if memory:
            parts += [f"Peak RSS (VmHWM) of each server at the end of the run: {memory}.", ""]
        parts += [
            "Ratios are server ÷ baseline: above 1 is more requests per second, but slower "
            "latencies and more memory. `peak RSS` is the highest VmRSS sampled during the "
            "row's timed run.",
            "",
        ]
        if args.svg:
            parts += [f"![ok req/s ÷ baseline]({args.svg.name})", ""]
        args.markdown.write_text("\n".join(parts))


if __name__ == "__main__":
    main()
