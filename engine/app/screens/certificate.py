import html

import streamlit as st

from engine import certificates, learning
from engine.app import state
from engine.app.i18n import day, number, t

ctx = state.current()
user = state.require(ctx, "learner")
st.title(ctx.t("certificate.title"))
with ctx.db() as session:
    records = learning.load_records(session, user_id=user.id, course=ctx.course)
if not certificates.passed_all(ctx.course, records):
    done = sum(learning.passed(m, records[m.id]) for m in ctx.course.modules)
    st.info(ctx.t("certificate.not_yet", done=number(ctx.lang, done),
                  total=number(ctx.lang, len(ctx.course.modules))))
    st.stop()
with ctx.write() as session:
    cert = certificates.issue(session, user_id=user.id, course=ctx.course, records=records)

km, en = ctx.courses["km"], ctx.courses["en"]
e = html.escape  # names are the learner's own words: shown as text, never as HTML
rows = "".join(
    f"<tr><td>{number('km', m.number)}. {e(m.title)}<br><span class='en'>{e(en.modules[i].title)}</span></td>"
    f"<td>{day('km', cert.passed_on[m.id])}<br><span class='en'>{day('en', cert.passed_on[m.id])}</span></td></tr>"
    for i, m in enumerate(km.modules)
)
st.html(f"""
<style>
.cert {{ border: 6px double #8a1c2b; padding: 28px 32px; max-width: 760px; margin: auto; background: #fffdf7;
        font-family: KhmerSans, "Noto Sans Khmer", "Khmer OS", sans-serif; color: #222; }}
.cert h1 {{ font-size: 1.5rem; text-align: center; margin: 0 0 4px; color: #8a1c2b; }}
.cert h2 {{ font-size: 1.05rem; text-align: center; margin: 0 0 18px; font-weight: 400; }}
.cert .name {{ font-size: 1.6rem; text-align: center; margin: 18px 0 2px; font-weight: 700; }}
.cert .en {{ color: #555; font-size: 0.9em; }}
.cert p {{ text-align: center; line-height: 1.9; }}
.cert table {{ width: 100%; border-collapse: collapse; margin-top: 14px; font-size: 0.85rem; }}
.cert td {{ border-top: 1px solid #ddd; padding: 6px 4px; vertical-align: top; }}
.cert .code {{ margin-top: 18px; text-align: center; font-family: monospace; font-size: 1rem; }}
@media (max-width: 480px) {{ .cert {{ padding: 14px; }} .cert .name {{ font-size: 1.25rem; }} }}
@media print {{
  @page {{ size: A4; margin: 12mm; }}
  header, [data-testid="stSidebar"], [data-testid="stToolbar"], [data-testid="stHeader"], h1#certificate-title,
  .stButton, .stAlert {{ display: none !important; }}
  .cert {{ max-width: none; border-width: 5px; }}
}}
</style>
<div class="cert">
  <h1>{t('km', 'certificate.heading')}</h1>
  <h2 class="en">{t('en', 'certificate.heading')}</h2>
  <p>{e(km.issuer)}<br><span class="en">{e(en.issuer)}</span></p>
  <p>{t('km', 'certificate.certifies')} <span class="en">{t('en', 'certificate.certifies')}</span></p>
  <div class="name">{e(user.full_name_km)}</div>
  <p class="en">{e(user.full_name_latin)}</p>
  <p>{t('km', 'certificate.completed', course=e(km.title))}<br>
     <span class="en">{t('en', 'certificate.completed', course=e(en.title))}</span></p>
  <table>{rows}</table>
  <p>{day('km', cert.issued_at)}<br><span class="en">{day('en', cert.issued_at)}</span></p>
  <div class="code">{t('km', 'certificate.code_label')} / {t('en', 'certificate.code_label')}:
    <b>{e(cert.code)}</b></div>
</div>
""")
st.caption(ctx.t("certificate.print_hint"))
