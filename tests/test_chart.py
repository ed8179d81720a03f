"""views/chart.py: scaling, the limit's marker, buckets and widths."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalc_formal.views.chart import (
    DEFAULT_WIDTH,
    MAX_ROWS,
    MIN_BAR,
    Point,
    Scale,
    bucket_size,
    chart,
    rows,
    terminal_width,
)


def bar_of(line: str) -> str:
    """The bar of a chart row: what follows the figures' last two spaces."""
    return line.rsplit("  ", 1)[1]


def over(bar: str) -> bool:
    """Whether a bar reaches past the limit's marker."""
    return bar.index("|") < len(bar) - 1


# ---- scaling


def test_a_value_at_the_limit_touches_the_marker_and_one_more_crosses_it():
    scale = Scale.of(limit=1024, highest=1025, cells=40)
    assert scale.at_limit == 39
    assert scale.bar(1024, 0) == "#" * 39 + "|"
    assert scale.bar(1025, 0) == "#" * 39 + "|#"


def test_a_small_value_over_a_limit_near_the_top_is_still_past_the_marker():
    scale = Scale.of(limit=999, highest=1000, cells=10)
    assert scale.at_limit == 9
    assert scale.length(1000) == 10
    assert scale.length(999) == 9


def test_a_value_just_under_the_limit_is_never_drawn_past_it():
    scale = Scale.of(limit=100, highest=10_000, cells=40)
    assert scale.at_limit == 0
    assert scale.bar(100, 0) == "|"
    assert scale.bar(101, 0) == "|#"


def test_a_tiny_value_still_shows_one_cell():
    scale = Scale.of(limit=1_000_000, highest=1, cells=50)
    assert scale.length(1) == 1
    assert scale.bar(1, 0).startswith("#")
    assert scale.length(0) == 0


def test_the_earlier_steps_of_a_window_are_drawn_before_the_step():
    scale = Scale.of(limit=100, highest=100, cells=10)
    assert scale.bar(100, 50) == "=====#####|"
    assert scale.bar(60, 59) == "=====#    |"


def test_a_limit_of_zero_puts_the_marker_first():
    scale = Scale.of(limit=0, highest=3, cells=10)
    assert scale.bar(0, 0) == "|"
    assert scale.bar(3, 0) == "|" + "#" * 10


@given(
    limit=st.integers(0, 10_000), values=st.lists(st.integers(0, 20_000), min_size=1, max_size=8),
    cells=st.integers(MIN_BAR, 200),
)
def test_scaling_keeps_the_limit_side_and_the_order_of_every_value(limit, values, cells):
    scale = Scale.of(limit, max(values), cells)
    lengths = [scale.length(v) for v in sorted(values)]
    assert lengths == sorted(lengths)
    for value in values:
        length = scale.length(value)
        assert 0 <= length <= cells
        assert (length > scale.at_limit) == (value > limit)
        assert (length > 0) == (value > 0) or (value <= limit and scale.at_limit == 0)
        bar = scale.bar(value, value // 3)
        assert bar.count("|") == 1
        assert bar.index("|") == scale.at_limit
        assert over(bar) == (value > limit)
        assert len(bar.replace("|", "").rstrip()) == length


# ---- buckets


def points(packets, limit_window=1):
    result = []
    for t, n in enumerate(packets):
        window = sum(packets[max(0, t - limit_window + 1) : t + 1])
        result.append(Point(t, 1000 + t, n, window))
    return result


def test_short_traces_have_one_row_per_step():
    assert bucket_size(MAX_ROWS) == 1
    assert bucket_size(MAX_ROWS + 1) == 2
    assert bucket_size(60) == 3
    assert bucket_size(61) == 4


def test_a_bucket_shows_the_most_of_each_figure_so_a_spike_is_never_hidden():
    series = [10] * 60
    series[37] = 900
    shown = rows(points(series, 2), 3)
    assert len(shown) == 20
    spike = shown[12]
    assert spike.label == "36..38"
    assert (spike.packets, spike.window, spike.earlier) == (900, 910, 10)
    assert spike.lookups == 1038
    assert all(row.packets == 10 for i, row in enumerate(shown) if i != 12)


def test_a_long_trace_is_bucketed_and_says_how_many_steps_a_row_holds():
    series = [10] * 45
    series[44] = 2000
    lines = chart(points(series), 1024, width=80, windowed=False)
    body, legend = lines[1:16], " ".join(line.strip() for line in lines[16:])
    assert body[0].split()[0] == "0..2"
    assert body[-1].split()[0] == "42..44"
    assert "each row holds 3 steps, each figure the most of them" in legend
    assert over(bar_of(body[-1]))
    assert not any(over(bar_of(line)) for line in body[:-1])


def test_a_short_trace_says_nothing_of_buckets():
    lines = chart(points([5, 6]), 10, width=80, windowed=False)
    assert [line.split()[0] for line in lines[1:3]] == ["0", "1"]
    assert "each row holds" not in lines[-1]


# ---- widths


@pytest.mark.parametrize("width", [40, 50, 60, 80, 100, 120, 160, 200])
@pytest.mark.parametrize("windowed", [False, True])
def test_the_chart_fits_the_width_and_the_marker_stays_in_one_column(width, windowed):
    series = [300, 800, 1200, 0, 50, 1024, 1025]
    lines = chart(points(series, 2 if windowed else 1), 1024, width=width, windowed=windowed)
    body = [line for line in lines[1:] if "|" in line and line.split()[0][0].isdigit()]
    assert all(len(line) <= width for line in lines if line not in body)
    prefix = len(body[0]) - len(bar_of(body[0]))
    assert all(len(line) <= max(width, prefix + MIN_BAR + 1) for line in body)
    assert len({line.index("|") for line in body}) == 1
    if width >= 80:
        assert all(len(line) <= width for line in lines)
        assert max(len(line) for line in body) >= width - 1
    windows = [p.window for p in points(series, 2 if windowed else 1)]
    assert [over(bar_of(line)) for line in body] == [w > 1024 for w in windows]


def test_wider_terminals_get_longer_bars():
    series = [100, 500]
    narrow = chart(points(series), 400, width=60, windowed=False)
    wide = chart(points(series), 400, width=160, windowed=False)
    assert len(bar_of(wide[2])) > len(bar_of(narrow[2]))


def test_the_chart_is_plain_ascii():
    lines = chart(points([3, 7000, 12]), 1024, width=120, windowed=True)
    assert all(line.isascii() for line in lines)


# ---- the terminal's width


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_is_the_fixed_default_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    assert terminal_width(io.StringIO()) == DEFAULT_WIDTH


@pytest.mark.parametrize(("columns", "width"), [("150", 150), ("20", 40), ("500", 200)])
def test_a_terminal_gives_its_width_within_bounds(monkeypatch, columns, width):
    monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width(FakeTerminal()) == width
