"""Printable paper answer sheets: one A4 page per participant, in the page's language, with the
participant's name and username, and a row of option boxes per question (the questions themselves are
read from the projector or a printed test)."""

from __future__ import annotations

import html

from engine.app.i18n import number


def answer_sheets(ctx, module, kind: str, people) -> str:
    items = module.pre_test if kind == "pre" else module.post_test
    e = html.escape
    pages = []
    def box(item, option) -> str:
        label = ctx.t(f"quiz.{option.id}") if item.type == "true_false" else option.id
        return f"<span class='box'>{e(label)}</span>"

    for person in people or [None]:
        name = e(person.name_km) if person else "&nbsp;"
        latin = e(person.name_latin) if person and person.name_latin else ""
        rows = "".join(
            f"<tr><td>{number(ctx.lang, n)}.</td><td>"
            + " ".join(box(item, o) for o in item.options)
            + (f" <small>{e(ctx.t('quiz.choose_all'))}</small>" if item.type == "multiple" else "")
            + "</td></tr>"
            for n, item in enumerate(items, 1))
        pages.append(f"""<section class="sheet">
  <h3>{e(module.title)} — {e(ctx.t(f'study.{kind}_title'))}</h3>
  <p>{e(ctx.t('users.name'))}: <b>{name}</b> {latin}<br>
     {e(ctx.t('session.sheet_id'))}: <b>{e(person.user_id[:8]) if person else ''}</b></p>
  <table>{rows}</table>
  <p class="hint">{e(ctx.t('session.sheet_hint'))}</p>
</section>""")
    return """<style>
.sheet { border: 1px solid #ccc; padding: 16px; margin-bottom: 16px; font-family: KhmerSans, sans-serif; }
.sheet td { padding: 6px 8px; font-size: 1.05rem; }
.sheet .box { display: inline-block; min-width: 2.2em; padding: 4px 6px; margin-right: 6px; border: 1.5px solid #333;
              border-radius: 4px; text-align: center; }
.sheet .hint { color: #555; font-size: 0.9rem; }
@media print { .sheet { page-break-after: always; border: none; } }
</style>""" + "".join(pages)
