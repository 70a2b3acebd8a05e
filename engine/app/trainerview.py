"""Small shared pieces of the trainer's pages: how a percentage and a pre/post summary are shown."""

from __future__ import annotations

from engine.analytics import PrePostSummary
from engine.app.i18n import day, number
from engine.exports import Table
from engine.places import province_name


def pct(ctx, value: float | None) -> str:
    return ctx.t("common.none") if value is None else number(ctx.lang, value) + "%"


def summary_row(ctx, label: str, s: PrePostSummary | None) -> dict[str, str]:
    """One table row: n, mean pre, mean post, gain with its 95% interval, normalized gain, d, share passing."""
    none = ctx.t("common.none")
    if s is None:
        return {ctx.t("cohort.group"): label}

    def num(value, digits=2):
        return none if value is None else number(ctx.lang, value, digits)

    gain = none if s.mean_gain is None else number(ctx.lang, s.mean_gain, 1)
    if s.gain_ci is not None:
        gain += f" [{number(ctx.lang, s.gain_ci[0], 1)}, {number(ctx.lang, s.gain_ci[1], 1)}]"
    return {
        ctx.t("cohort.group"): label,
        ctx.t("cohort.n"): number(ctx.lang, s.n_paired),
        ctx.t("cohort.mean_pre"): pct(ctx, s.mean_pre),
        ctx.t("cohort.mean_post"): pct(ctx, s.mean_post),
        ctx.t("cohort.gain_ci"): gain,
        ctx.t("cohort.normalized_gain"): num(s.normalized_gain),
        ctx.t("cohort.effect_size"): num(s.cohens_d),
        ctx.t("cohort.passing"): pct(ctx, None if s.share_passed is None else 100 * s.share_passed),
    }


def roster_table(ctx, rows) -> Table:
    """The roster as the page shows it; the export writes exactly this table."""
    columns = (ctx.t("users.name"), ctx.t("profile.name_latin"), ctx.t("users.username"), ctx.t("users.sex"),
               ctx.t("users.province"), ctx.t("register.org_type"), ctx.t("profile.institution"),
               ctx.t("profile.position"), ctx.t("cohort.last_activity"))
    return Table(ctx.t("cohort.tab_roster"), columns, tuple(
        (r.name_km, r.name_latin, r.username, ctx.t(f"sex.{r.sex}"), province_name(r.province_code, ctx.lang),
         ctx.t(f"org.{r.org_type}"), r.institution, r.position, day(ctx.lang, r.last_activity)) for r in rows))


def scores_table(ctx, rows, scores, course) -> Table:
    names = {r.id: (r.username, r.name_km) for r in rows}
    columns = (ctx.t("users.username"), ctx.t("users.name"), ctx.t("results.module"), ctx.t("results.pre"),
               ctx.t("results.post"))
    body = []
    for module in course.modules:
        for s in scores[module.id]:
            username, name = names.get(s.learner_id, ("", ""))
            body.append((username, name, module.id, None if s.pre is None else round(s.pre, 1),
                         None if s.post is None else round(s.post, 1)))
    return Table(ctx.t("cohort.export_scores"), columns, tuple(body))


def progress_table(ctx, rows, progress) -> Table:
    names = {r.id: (r.username, r.name_km) for r in rows}
    columns = (ctx.t("users.username"), ctx.t("users.name"), ctx.t("results.module"),
               ctx.t("cohort.funnel_took_pre_test"), ctx.t("cohort.funnel_read_all_sections"),
               ctx.t("cohort.funnel_passed_post_test"), ctx.t("cohort.passed_on"))
    return Table(ctx.t("cohort.tab_progress"), columns, tuple(
        (*names.get(p.learner_id, ("", "")), p.module_id, p.took_pre_test, p.read_all_sections,
         p.passed_post_test, p.completed_at) for p in progress))


def responses_table(ctx, rows, responses) -> Table:
    """First attempts' answers: (module, test) -> ItemResponse rows."""
    names = {r.id: r.username for r in rows}
    columns = (ctx.t("users.username"), ctx.t("results.module"), ctx.t("cohort.test"), ctx.t("cohort.item"),
               ctx.t("cohort.answer"), ctx.t("cohort.correct"))
    body = []
    for (module_id, kind), items in responses.items():
        for r in items:
            body.append((names.get(r.learner_id, ""), module_id, kind, r.item_id, " ".join(r.option_ids), r.correct))
    return Table(ctx.t("cohort.export_responses"), columns, tuple(body))
