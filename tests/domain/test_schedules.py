import pytest

from odyssey.domain.schedules import schedule_expression_problem


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 3 * * ? *)",
        "cron(15 10 ? * MON-FRI *)",
        "cron(0/15 * * * ? *)",
        "cron(0 8 1 JAN,JUL ? 2027)",
        "cron(0 18 ? * 6L *)",
        "cron(0 12 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 15W * ? *)",
        "rate(1 minute)",
        "rate(15 minutes)",
        "rate(1 day)",
        "rate(12 hours)",
        "at(2026-12-01T09:00:00)",
    ],
)
def test_valid_expressions(expression):
    assert schedule_expression_problem(expression) is None


@pytest.mark.parametrize(
    "expression, fragment",
    [
        ("0 3 * * *", "not a schedule expression"),
        ("cron(0 3 * * *)", "needs 6 fields"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 3 * * ? *)", "minutes '60'"),
        ("cron(0 24 * * ? *)", "hours '24'"),
        ("cron(0 3 32 * ? *)", "day-of-month '32'"),
        ("cron(0 3 * 13 ? *)", "month '13'"),
        ("cron(0 3 ? * 8 *)", "day-of-week '8'"),
        ("cron(0 3 * FOO ? *)", "month 'FOO'"),
        ("cron(0/0 3 * * ? *)", "step '0'"),
        ("cron(0 3 * * ? 1969)", "year '1969'"),
        ("rate(5 minute)", "use '5 minutes'"),
        ("rate(1 hours)", "use '1 hour'"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(5 weeks)", "is not rate("),
        ("at(2026-13-01T09:00:00)", "is not at("),
    ],
)
def test_invalid_expressions_say_why(expression, fragment):
    assert fragment in schedule_expression_problem(expression)
