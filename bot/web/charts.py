"""Charts as inline SVG, drawn on the server: no script, no external asset, readable at any
width (they scale with their viewBox)."""

from __future__ import annotations

from datetime import date, timedelta

from markupsafe import Markup, escape

from storage.web_reports import DayCount

BAR_GAP = 0.2


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at or above `value`: the axis' top."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def every_day(days: list[DayCount], first: date, last: date) -> list[DayCount]:
    """One entry per calendar day from `first` to `last`, zero where nobody asked: the axis
    is the period chosen, not just the days that had questions."""
    known = {d.day: d for d in days}
    span = (last - first).days + 1
    dates = [(first + timedelta(days=i)).isoformat() for i in range(span)]
    return [known.get(day, DayCount(day, 0, 0)) for day in dates]


def daily(days: list[DayCount], width: int = 720, height: int = 220) -> Markup:
    """Questions per day, each bar split into answered (below) and refused (above)."""
    left, bottom, top = 40, 28, 10
    if not any(d.asked for d in days):
        return _svg(width, 60, ['<text x="10" y="35" class="muted">这段时间没有提问</text>'], "每日提问数")
    peak = _nice_max(max(d.asked for d in days))
    plot_h = height - bottom - top
    slot = (width - left - 10) / len(days)
    body = []
    for tick in (0, peak / 2, peak):
        y = top + plot_h - plot_h * tick / peak
        body.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{tick:g}</text>')
    label_every = max(1, round(len(days) / 8))
    for i, d in enumerate(days):
        x = left + i * slot + slot * BAR_GAP / 2
        w = slot * (1 - BAR_GAP)
        h_ok = plot_h * d.answered / peak
        h_no = plot_h * (d.asked - d.answered) / peak
        base = top + plot_h
        tip = f"{d.day}：{d.asked} 问，已回答 {d.answered}"
        body.append(
            f"<g><title>{escape(tip)}</title>"
            f'<rect x="{x:.1f}" y="{base - h_ok:.1f}" width="{w:.1f}" height="{h_ok:.1f}" class="ok"/>'
            f'<rect x="{x:.1f}" y="{base - h_ok - h_no:.1f}" width="{w:.1f}" height="{h_no:.1f}" class="no"/></g>'
        )
        if i % label_every == 0:
            middle, day = x + w / 2, escape(d.day[5:])
            body.append(f'<text x="{middle:.1f}" y="{height - 8}" class="axis" text-anchor="middle">{day}</text>')
    return _svg(width, height, body, "每日提问数：绿色为已回答，橙色为未回答")


def bars(items: list[tuple[str, int]]) -> Markup:
    """A ranked list: each label as text (it wraps on a phone), its count as a bar drawn to
    scale against the largest."""
    if not items:
        return Markup('<p class="muted">暂无数据</p>')
    peak = max(n for _, n in items) or 1
    rows = [
        f'<li><span class="label">{escape(label)}</span>'
        f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="{max(100 * n / peak, 1):.1f}" height="10"/></svg><span class="n">{n}</span></li>'
        for label, n in items
    ]
    return Markup(f'<ol class="ranked">{"".join(rows)}</ol>')


def share(parts: list[tuple[str, int, str]], height: int = 12) -> Markup:
    """One bar split by share, (label, count, css class) each, with its legend as text."""
    total = sum(n for _, n, _ in parts)
    if not total:
        return Markup('<p class="muted">暂无数据</p>')
    body, legend, x = [], [], 0.0
    for label, n, css in parts:
        w = 100 * n / total
        body.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" class="{css}"/>')
        legend.append(f'<span><span class="key {css}"></span>{escape(label)} {n}（{n / total:.0%}）</span>')
        x += w
    bar = (
        f'<svg class="chart share" viewBox="0 0 100 {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape("，".join(f"{label} {n}" for label, n, _ in parts))}">{"".join(body)}</svg>'
    )
    return Markup(f'{bar}<p class="legend">{"".join(legend)}</p>')
