"""The question log as a readable report, for ``asem-bot stats`` and the admin's ``/stats``."""

from __future__ import annotations

from bot.storage import Stats


def format_stats(stats: Stats, *, width: int = 60) -> str:
    """Totals, answer rate, top intents and the most frequent unanswered questions."""
    period = f"the last {stats.days} days" if stats.days else "all time"
    lines = [
        f"Questions ({period}): {stats.questions}",
        f"  answered:             {stats.answered}",
        f"  declined or unsure:   {stats.unanswered}",
        f"  answer rate:          {stats.answer_rate:.1%}",
    ]
    if stats.top_intents:
        lines += ["", f"{'Top intents':<{width - 8}} {'count':>7}"]
        lines += [f"  {row.intent:<{width - 10}} {row.count:>7}" for row in stats.top_intents]
    if stats.top_unanswered:
        lines += ["", f"{'Most asked, not answered':<{width - 8}} {'count':>7}"]
        for group in stats.top_unanswered:
            text = group.representative
            if len(text) > width - 10:
                text = text[: width - 11] + "…"
            lines.append(f"  {text:<{width - 10}} {group.count:>7}")
            for example in group.examples[:2]:
                if example != group.representative:
                    shown = example if len(example) <= width - 14 else example[: width - 15] + "…"
                    lines.append(f"      ~ {shown}")
    elif stats.questions:
        lines += ["", "Every question was answered."]
    if stats.daily_posts_unsure or stats.updates_skipped:
        lines += ["", "Delivery"]
    if stats.daily_posts_unsure:
        lines.append(
            f"  daily posts that may not have arrived ({period}): {stats.daily_posts_unsure}"
            " (timed out, or the bot stopped while sending)"
        )
    if stats.updates_skipped:
        lines.append(
            f"  updates skipped as unreadable (all time): {stats.updates_skipped}"
            " (see the log: 'skipped update')"
        )
    return "\n".join(lines)
