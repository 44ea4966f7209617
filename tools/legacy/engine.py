"""The RPA engine: enter one HR record into a legacy web form exactly once, and prove it.

For every push:

1. log in (once per browser context and system; again whenever the session expires);
2. search for the record by its key: a create that finds it does not type anything again, so a
   retry after a crash or a lost response never makes a duplicate;
3. fill the form page by page (selector strategies in mapping order), submit, detect success and
   the reference number; validation messages on the page stop the push for a person;
4. read the record back from its own page and compare field by field.

Transient faults (5xx, timeouts, a dropdown whose XHR failed, an expired session) are retried
here with backoff, starting again from the search; what a retry cannot fix is raised as a
non-retryable `LegacyError` subclass.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import BaseModel

from tools.legacy import transforms
from tools.legacy.credentials import Credentials
from tools.legacy.errors import (
    DataError,
    FieldNotFound,
    LegacyError,
    LoginFailed,
    MappingMismatch,
    RecordMissing,
    SearchBroken,
    SearchUnclear,
    SessionExpired,
    TransientError,
    ValidationRejected,
    VerificationFailed,
)
from tools.legacy.evidence import Evidence
from tools.legacy.journal import OpenSubmit
from tools.legacy.mapping import Expect, FieldMap, FieldType, FormMapping, Page, Selector, SystemMapping
from tools.legacy.pool import Slot

MAX_ATTEMPTS = 8  # record-level tries (each starts from the search) before Temporal takes over
PAGE_TRIES = 3  # tries of one wizard page before the record starts over
POLL = 0.01  # after a browser event, before looking at the page
WAIT = 0.25  # longest pause between looks when the browser reports nothing
# The sign-in form back without a refusal for this long after logging in: sent back out, try again
# (a refusal a page script shows a moment late still counts as one).
BOUNCE_QUIET = 1.0

Outcome = Literal["entered", "already_present", "updated", "unchanged"]


class PushResult(BaseModel):
    outcome: Outcome
    reference: str
    verified: list[str]  # field keys read back and equal
    attempts: int
    recovered: dict[str, int]  # fault kind -> times recovered from
    evidence: str | None  # folder relative to the evidence root
    notes: list[str] = []
    seconds: float


@dataclass(frozen=True)
class Mark:
    top: int  # top-frame documents seen so far
    child: int  # frame documents seen so far
    errors: int  # server errors seen so far


class Look(BaseModel):
    errors: list[str] = []  # validation messages shown
    text: str = ""  # the body's visible text
    success: list[str] = []  # texts of the form's success selector, if it has one


_LOOK = """
(doc, errorsCss, successCss) => {
  const texts = css => css ? Array.from(doc.querySelectorAll(css), e => e.innerText) : [];
  return {errors: texts(errorsCss).map(t => t.trim()).filter(t => t),
          text: doc.body ? doc.body.innerText : '', success: texts(successCss)};
}
"""
# From the top document, so nothing waits for a frame: a frame's document is reached through its
# element (same origin); null when it cannot be (cross-origin: then the frame is asked itself).
_LOOK_FROM_TOP = f"""
([frameCss, errorsCss, successCss]) => {{
  const look = {_LOOK};
  if (!frameCss) return look(document, errorsCss, successCss);
  const frame = document.querySelector(frameCss);
  if (!frame) return {{}};  // not (or no longer) on this page: nothing to see there
  const doc = frame.contentDocument;
  return doc && doc.documentElement ? look(doc, errorsCss, successCss) : null;
}}
"""
_LOOK_IN_FRAME = f"(html, [errorsCss, successCss]) => ({_LOOK})(html.ownerDocument, errorsCss, successCss)"


_FIND_JS = """
([rowsCss, emptyCss]) => ({
  rows: Array.from(document.querySelectorAll(rowsCss),
                   r => Array.from(r.querySelectorAll('td,th'), c => c.textContent.trim())),
  empty: emptyCss ? document.querySelector(emptyCss) !== null : null,
})
"""


_RECORD_JS = """
(rows, [labelCss, valueCss, secretLabels]) => rows.map(r => {
  const label = r.querySelector(labelCss), value = r.querySelector(valueCss);
  const name = label ? label.textContent.trim() : null;
  if (value && secretLabels.includes(name)) value.setAttribute('data-hrops-secret', '');
  return [label ? label.textContent : null, value ? value.textContent : null];
})
"""


# Playwright's words for "this element cannot do that" (a text box where a checkbox was mapped...).
_WRONG_ELEMENT = re.compile(
    r"not a checkbox|not a <select>|not an <input>|not an input|cannot be filled|not a radio", re.I
)


def _cell_text(value: str | None) -> str:
    return (value or "").strip()


def _path(url: str) -> str:
    return urlparse(url).path


class Engine:
    """Drives one browser context through one push. Create a new one per push."""

    def __init__(
        self,
        slot: Slot,
        system: SystemMapping,
        form: FormMapping,
        *,
        base_url: str,
        credentials: Credentials,
        evidence: Evidence,
        step_timeout: float = 15.0,
        on_step: Callable[[str], None] = lambda step: None,
        journal: OpenSubmit | None = None,
        submit_grace: float = 60.0,
        on_final_submit: Callable[[], Awaitable[None]] | None = None,
        on_saved: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.slot, self.page = slot, slot.page
        self.system, self.form = system, form
        self.base_url = base_url.rstrip("/") + "/"
        self.credentials = credentials
        self.evidence = evidence
        self.timeout = step_timeout
        self.on_step = on_step
        # A create sent earlier whose outcome nobody saw (epoch seconds of the newest), and how long
        # the legacy system may take to save one: until then a search that finds nothing proves
        # nothing. A reference an earlier answer named: that record exists, it is never typed again.
        self._doubt = journal.last_sent if journal else None
        self._known = journal.reference if journal else None
        self.grace = submit_grace
        self.on_final_submit = on_final_submit
        self.on_saved = on_saved
        self._submitted = False  # this push clicked the final submit
        self._doubt_is_ours = False  # the doubt comes only from this push's own last click
        self._step = "start"
        self._masks: list[Any] = []  # secret fields of the current page: masked in all evidence
        self.tables = {**system.tables, **form.tables}
        self.recovered: dict[str, int] = {}
        self.notes: list[str] = []
        self._server_errors = 0
        self._denied = 0  # XHRs refused for want of a session: the session expired under us
        self._doc_status = 200  # status of the last document the top frame loaded
        self._changed = asyncio.Event()  # set by the browser's events: something may have changed
        # New documents seen (top frame, child frames): an answer is only read from a newer one.
        self._navs_top = 0
        self._navs_child = 0
        self._logging_in = False
        self._frame: str | None = None  # CSS of the frame the current page's form sits in

    # -- public ------------------------------------------------------------------------------

    async def push(self, record: dict[str, Any]) -> PushResult:
        started = time.monotonic()
        values = self._values(record)  # data problems surface before the browser does anything
        key = self._key(record)
        with self.watching():
            return await self._push(record, values, key, started)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Listen to the browser's events (responses, new documents) while driving the page."""
        self.page.on("response", self._on_response)
        self.page.on("framenavigated", self._on_navigated)
        self.page.on("domcontentloaded", self._on_top_document)
        self.page.on("load", self._poke)
        try:
            yield
        finally:
            self.page.remove_listener("response", self._on_response)
            self.page.remove_listener("framenavigated", self._on_navigated)
            self.page.remove_listener("domcontentloaded", self._on_top_document)
            self.page.remove_listener("load", self._poke)

    async def _push(
        self, record: dict[str, Any], values: dict[str, str | bool | None], key: str, started: float
    ) -> PushResult:
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    outcome, reference = await self._attempt(key, values, record)
                    verified = await self._read_back(reference, values)
                    if outcome == "entered":
                        await self._prove_findable(key, reference)
                    result = PushResult(
                        outcome=outcome,
                        reference=reference,
                        verified=verified,
                        attempts=attempt,
                        recovered=self.recovered,
                        evidence=self.evidence.folder if self.evidence.enabled else None,
                        notes=self.notes,
                        seconds=round(time.monotonic() - started, 3),
                    )
                    self.evidence.finish(**result.model_dump(exclude={"notes"}))
                    return result
                except Exception as raw:  # noqa: BLE001 - classified here, re-raised below
                    e = self._classify(raw)
                    if not isinstance(e, TransientError):
                        raise e from None
                    self.recovered[e.kind] = self.recovered.get(e.kind, 0) + 1
                    if isinstance(e, SessionExpired):
                        self.slot.logged_in.discard(self.system.system)
                    if attempt == MAX_ATTEMPTS:
                        raise e from None
                    if not isinstance(e, SessionExpired):
                        # Faults here are random, not load: a short, gently growing pause is enough.
                        # An expired session is no fault of the system's: it logs in again at once.
                        await asyncio.sleep(min(0.2 * attempt, 2.0))
            raise AssertionError("unreachable")
        except LegacyError as e:
            self.evidence.finish(error=e.kind, message=e.message, recovered=self.recovered)
            raise

    def _classify(self, e: Exception) -> Exception:
        """Our errors stay; a browser action that failed (timeout, page closed, navigation
        aborted) is transient. Playwright's own message is dropped: its call log quotes the
        page's HTML, which holds personal data."""
        if isinstance(e, LegacyError):
            return e
        page = self._step.split(":")[0]
        if isinstance(e, PlaywrightError) and not isinstance(e, PlaywrightTimeout):
            if _WRONG_ELEMENT.search(e.message or ""):
                # The selector found an element of another kind: the mapping is wrong, not the day.
                return MappingMismatch(
                    f"{self._step}: the element found is not the kind the mapping says "
                    "(check the field's `type` and selectors)",
                    page=page,
                )
            return TransientError(f"{self._step}: the browser action failed", page=page)
        if isinstance(e, PlaywrightTimeout):
            return TransientError(f"{self._step}: the browser action timed out", page=page)
        return e

    @property
    def unresolved(self) -> bool:
        """A create of this push may exist in the system without being verified yet."""
        return self._doubt is not None or self._known is not None

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _enter_step(self, step: str) -> None:
        self._step = step
        self.on_step(step)

    # -- one attempt ---------------------------------------------------------------------------

    async def _attempt(
        self, key: str, values: dict[str, str | bool | None], record: dict[str, Any]
    ) -> tuple[Outcome, str]:
        if self.system.system not in self.slot.logged_in:
            await self._login()
        if self.form.action == "create" and self._known:
            self._note(f"saved earlier as {self._known} (the system said so): not entered again")
            return "entered", self._known
        reference = await self._find(key)
        if self.form.action == "create":
            if not reference and self._doubt is not None:
                # A create was sent and nobody saw the answer: the system may still be saving it.
                reference = await self._search_until(key, self._doubt + self.grace, "find:in-doubt")
                if not reference:
                    self._note(
                        f"an earlier submit left no record within {self.grace:.0f} s of sending it: entered again"
                    )
                    self._doubt = None
            if reference:
                if self._submitted or self._doubt is not None:
                    # Our own earlier submit saved it; the answer was lost on the way back.
                    self._note("the earlier submit had saved the record: not entered again")
                    return "entered", reference
                return "already_present", reference
            reference = await self._fill_pages(values, {**record, "key": key})
            return "entered", reference
        if not reference:
            raise RecordMissing(
                f"{self.system.system} has no record with key {key}; push the new hire first "
                f"(`hrops legacy push {record.get('employee_id')} --system {self.system.system}`)"
            )
        if not await self._differs(reference, values):
            # Equal now: either nothing was to do, or an earlier submit of this push did it.
            return ("updated" if self._submitted else "unchanged"), reference
        await self._fill_pages(values, {**record, "key": key, "reference": reference})
        return "updated", reference

    async def _search_until(self, key: str, deadline: float, step: str) -> str | None:
        """Search every 2 s until the record shows or `deadline` (epoch seconds) has passed."""
        while (left := deadline - time.time()) > 0:
            self._enter_step(step)  # heartbeats while waiting
            await asyncio.sleep(min(2.0, left))
            if reference := await self._find(key, step):
                return reference
        return None

    async def _prove_findable(self, key: str, reference: str) -> None:
        """The search before create is what makes retries safe: prove it finds what was entered."""
        found = await self._find(key, "search-proof")
        if found is None:  # a search index may trail the save by a moment
            found = await self._search_until(key, time.time() + self.grace, "search-proof")
        if found != reference:
            raise SearchBroken(
                f"{reference} was entered, but searching {self.system.system} for key {key} "
                f"{'finds ' + found if found else 'finds nothing'}: fix `find` or `key` in system.yaml "
                "before pushing again (with a search that cannot find a record, a retry would enter "
                "it twice)",
                screenshot=await self._capture("search-proof-failed"),
                page="find",
            )

    def _values(self, record: dict[str, Any]) -> dict[str, str | bool | None]:
        """Field key -> value to enter, in form order; later fields may template on earlier ones."""
        values: dict[str, str | bool | None] = {}
        for f in self.form.fields():
            values[f.key] = transforms.field_value(f, {**record, **values}, self.tables)
        return values

    def _key(self, record: dict[str, Any]) -> str:
        raw = record.get(self.system.key.source)
        key = transforms.apply(raw, self.system.key.transforms, record, self.tables, field="key")
        if not key:
            raise DataError(f"the record has no {self.system.key.source}: it cannot be found or entered")
        return str(key)

    # -- navigation ----------------------------------------------------------------------------

    def _poke(self, *_: Any) -> None:
        self._changed.set()

    def _on_navigated(self, frame: Any) -> None:
        # Frames report new documents here (same-document hash changes in a frame are rare);
        # the top page counts by its DOMContentLoaded, which a hash or pushState change never fires.
        if frame != self.page.main_frame:
            self._navs_child += 1
        self._changed.set()

    def _on_top_document(self, *_: Any) -> None:
        self._navs_top += 1
        self._changed.set()

    async def _settle(self) -> None:
        """Wait for the browser to report something (or a short while): cheaper than busy polling."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout=WAIT)
        self._changed.clear()
        await asyncio.sleep(POLL)  # let the DOM catch up with the event

    def _on_response(self, response: Any) -> None:
        kind = response.request.resource_type
        if kind in ("xhr", "fetch") or response.status >= 400:
            self._changed.set()  # documents announce themselves by their load events
        if kind == "document" and response.frame == self.page.main_frame:
            self._doc_status = response.status
        if response.status >= 500 and kind in ("document", "xhr", "fetch"):
            self._server_errors += 1
        elif response.status in (401, 403) and kind in ("xhr", "fetch"):
            self._denied += 1

    def _url(self, template: str, **fields: Any) -> str:
        path = template.format(**{k: quote(str(v), safe="") for k, v in fields.items()})
        return urljoin(self.base_url, path.lstrip("/"))

    async def _goto(self, template: str, step: str, **fields: Any) -> None:
        url = self._url(template, **fields)
        self._enter_step(step)
        try:
            response = await self.page.goto(url, timeout=self.timeout * 1000, wait_until="load")
        except Exception as e:  # playwright's TimeoutError and network errors
            raise TransientError(f"{step}: page did not load ({type(e).__name__})", page=step) from None
        if response is not None and response.status >= 500:
            raise TransientError(f"{step}: server error {response.status}", page=step)
        self._check_expired(step)
        if _path(self.page.url) != _path(url) and not self._logging_in:
            # The system put us elsewhere (e.g. a wizard whose state it lost): start over.
            raise TransientError(f"{step}: landed on {_path(self.page.url)} instead", page=step)

    def _check_expired(self, step: str) -> None:
        """The page, or a frame of it, was sent to the login page."""
        if self._logging_in or not self.system.session_expired.url:
            return
        if any(_path(frame.url).startswith(self.system.session_expired.url) for frame in self.page.frames):
            raise SessionExpired(f"{step}: session expired", page=step)

    async def _login(self) -> None:
        """Log in; a fault on the way is retried here (logging in twice is harmless)."""
        for tries in range(1, PAGE_TRIES + 1):
            try:
                return await self._login_once()
            except TransientError as e:
                if tries == PAGE_TRIES:
                    raise
                self.recovered[e.kind] = self.recovered.get(e.kind, 0) + 1
                await asyncio.sleep(0.1 * tries)

    async def _login_once(self) -> None:
        login = self.system.login
        self._logging_in = True
        try:
            await self._goto(login.url, "login")
            user = await self._locate(self.page, login.username.selectors, "username", "login")
            await user.fill(self.credentials.username)
            password = await self._locate(self.page, login.password.selectors, "password", "login")
            await password.fill(self.credentials.password.get_secret_value())
            button = await self._locate(self.page, login.submit, "submit", "login")
            mark = self._mark()
            await button.click()
            deadline = time.monotonic() + self.timeout
            back_since: float | None = None  # when the sign-in form was first seen again
            while time.monotonic() < deadline:
                if self._server_errors > mark.errors:
                    raise TransientError("login: server error", page="login")
                if await self._reached(login.success, mark):
                    self.slot.logged_in.add(self.system.system)
                    return
                fresh = self._fresh(self.page, mark)
                if login.failure and fresh and await self.page.locator(login.failure).count():
                    raise LoginFailed(
                        f"{self.system.system} refused the login: check its credentials "
                        "(`hrops legacy login`, see docs/legacy-systems.md)",
                        page="login",
                    )
                # The sign-in form again and no refusal: the new session expired on its way to the
                # first page. Nothing more will come; waiting out the step timeout only loses time.
                # Only for a system whose refusal we can see: without it, a refused login looks
                # the same, and quick retries of wrong credentials could lock the account.
                if login.failure and fresh and await self._sign_in_shown():
                    back_since = back_since or time.monotonic()
                    if time.monotonic() - back_since >= BOUNCE_QUIET:
                        raise SessionExpired("login: sent back to the sign-in page", page="login")
                else:
                    back_since = None
                await self._settle()
            raise TransientError("login: no answer", page="login")
        finally:
            self._logging_in = False

    async def _sign_in_shown(self) -> bool:
        """The top page is the sign-in page, its form shown (a refusal may still render in it)."""
        login = self.system.login
        if _path(self.page.url) != _path(self._url(login.url)):
            return False
        for sel in login.username.selectors:
            with contextlib.suppress(Exception):  # mid-navigation, or a selector the page cannot parse
                if await self._candidate(self.page, sel, None).first.is_visible():
                    return True
        return False

    # -- locating ------------------------------------------------------------------------------

    def _candidate(self, scope: Any, sel: Selector, kind: FieldType | None) -> Any:
        if sel.label is not None:
            if kind == FieldType.RADIO:
                return scope.get_by_role("group", name=sel.label, exact=True)
            return scope.get_by_label(sel.label, exact=True)
        if sel.role is not None:
            return (
                scope.get_by_role(sel.role, name=sel.name, exact=True)
                if sel.name
                else scope.get_by_role(sel.role)
            )
        if sel.placeholder is not None:
            return scope.get_by_placeholder(sel.placeholder, exact=True)
        if sel.css is not None:
            return scope.locator(sel.css)
        return scope.locator(f'[name="{_attr(sel.name)}"]')

    async def _locate(
        self, scope: Any, selectors: list[Selector], field: str, page: str, kind: FieldType | None = None
    ) -> Any:
        for sel in selectors:
            candidate = self._candidate(scope, sel, kind)
            try:
                if await candidate.count():
                    return candidate if kind == FieldType.RADIO else candidate.first
            except Exception:  # noqa: BLE001 - a selector the page cannot parse is simply no match
                continue
        # Not the form at all (an error page, the login page): that is a fault, not a changed page.
        self._check_expired(page)
        if (
            self._doc_status >= 500
            or await self._server_error_text()
            or (scope is not self.page and await self._server_error_text(self._frame))
        ):
            raise TransientError(f"{page}: error page instead of the form", page=page)
        shot = await self._capture(f"{page}-missing-{field}")
        raise FieldNotFound(field, [s.describe() for s in selectors], screenshot=shot, page=page)

    # -- pages ---------------------------------------------------------------------------------

    async def _fill_pages(self, values: dict[str, str | bool | None], fields: dict[str, Any]) -> str:
        arrived = False  # the previous page's submit brought us here already
        for index, page in enumerate(self.form.pages):
            last = index == len(self.form.pages) - 1
            for tries in range(1, PAGE_TRIES + 1):
                try:
                    errors_before = self._server_errors
                    if page.url and not (arrived and tries == 1 and self._at(page.url, fields)):
                        await self._goto(page.url, page.name, **fields)
                    else:
                        self._enter_step(page.name)
                        await self._loaded(page.name)
                        if self._doc_status >= 500:
                            raise TransientError(
                                f"{page.name}: server error {self._doc_status}", page=page.name
                            )
                    scope = await self._scope(page, errors_before)
                    found = await self._fill(scope, page, values)
                    reference = await self._submit(scope, page, last, found)
                    arrived = True
                    break
                except SessionExpired:
                    raise
                except TransientError as e:
                    # The last page's answer may be lost after it saved: only a new search can tell.
                    if last or tries == PAGE_TRIES:
                        raise
                    self.recovered[e.kind] = self.recovered.get(e.kind, 0) + 1
                    await asyncio.sleep(0.2 * tries)
        return reference

    def _at(self, template: str, fields: dict[str, Any]) -> bool:
        return _path(self.page.url) == _path(self._url(template, **fields))

    async def _loaded(self, step: str) -> None:
        try:
            await self.page.wait_for_load_state("load", timeout=self.timeout * 1000)
        except Exception:
            raise TransientError(f"{step}: page did not finish loading", page=step) from None

    async def _scope(self, page: Page, errors_before: int) -> Any:
        self._frame, self._masks = page.frame, []
        if not page.frame:
            return self.page
        scope = self.page.frame_locator(page.frame)
        try:
            await scope.locator("body").wait_for(timeout=self.timeout * 1000)
        except Exception:
            raise TransientError(f"{page.name}: frame {page.frame} did not load", page=page.name) from None
        self._check_expired(page.name)
        if self._server_errors > errors_before or await self._server_error_text(page.frame):
            raise TransientError(f"{page.name}: server error in frame", page=page.name)
        return scope

    async def _probe(
        self, scope: Any, wanted: list[tuple[str, Selector, FieldType | None]]
    ) -> dict[str, Any]:
        """Look for each element by its first strategy, all at once (one round trip, not one each).

        Only a shortcut: whatever is not found here goes through `_locate`, which tries every
        strategy and tells a changed page from an error page.
        """

        async def count(candidate: Any) -> int:
            try:
                return await candidate.count()
            except Exception:  # noqa: BLE001 - a selector the page cannot parse is simply no match
                return 0

        candidates = [(key, kind, self._candidate(scope, sel, kind)) for key, sel, kind in wanted]
        counts = await asyncio.gather(*(count(c) for _, _, c in candidates))
        return {
            key: c if kind == FieldType.RADIO else c.first
            for (key, kind, c), n in zip(candidates, counts, strict=True)
            if n
        }

    async def _fill(self, scope: Any, page: Page, values: dict[str, str | bool | None]) -> dict[str, Any]:
        """Fill the page's fields in order; returns what was found, the submit button included."""
        # Every secret field of the page is masked from the first capture on, filled or not: the
        # system may have put a value there itself.
        self._masks = [
            self._candidate(scope, s, f.type) for f in page.fields if f.secret for s in f.selectors
        ]
        wanted = [(f.key, f.selectors[0], f.type) for f in page.fields if values[f.key] is not None]
        found = await self._probe(scope, [*wanted, ("submit", page.submit[0], None)])
        for f in page.fields:
            value = values[f.key]
            if value is None:
                continue
            self._enter_step(f"{page.name}:{f.key}")
            target = found.get(f.key) or await self._locate(scope, f.selectors, f.key, page.name, f.type)
            await self._set(scope, target, f, value, page.name)
        # A screenshot where something was typed; a page with nothing to fill (a summary to
        # confirm) is server output that its HTML shows completely.
        await self._capture(f"{page.name}-filled", screenshot=bool(wanted))
        return found

    async def _capture(self, step: str, *, screenshot: bool = True) -> str | None:
        """Evidence of the page now; the current page's secret fields are masked and blanked."""
        return await self.evidence.capture(self.page, step, mask=self._masks, screenshot=screenshot)

    async def _set(self, scope: Any, target: Any, f: FieldMap, value: str | bool, page: str) -> None:
        ms = self.timeout * 1000
        if f.type == FieldType.CHECKBOX:
            await target.set_checked(bool(value), timeout=ms)
        elif f.type == FieldType.RADIO:
            option = target.locator(f'input[type=radio][value="{_attr(str(value))}"]')
            if not await option.count():
                option = target.get_by_label(str(value), exact=True)
            if not await option.count():  # `name`/`css` strategies point at the radios themselves
                option = target.and_(scope.locator(f'[value="{_attr(str(value))}"]'))
            if not await option.count():
                raise DataError(f"field {f.key!r}: the page offers no such choice", page=page)
            await option.first.check(timeout=ms)
        elif f.type == FieldType.SELECT:
            await self._choose(target, f, str(value), page)
        else:
            await target.fill(str(value), timeout=ms)

    async def _choose(self, target: Any, f: FieldMap, value: str, page: str) -> None:
        option = target.locator(f'option[value="{_attr(value)}"]')
        if f.wait_for_options:
            errors_before, denied_before = self._server_errors, self._denied
            deadline = time.monotonic() + self.timeout
            while not await option.count():
                if self._denied > denied_before:
                    raise SessionExpired(
                        f"{page}: the page's request for {f.key!r} options was refused", page=page
                    )
                if self._server_errors > errors_before or time.monotonic() > deadline:
                    raise TransientError(f"{page}: options of {f.key!r} did not load", page=page)
                if await target.locator("option:not([value=''])").count():
                    break  # loaded, and ours is not among them
                await self._settle()
        if not await option.count():
            by_label = target.locator("option").filter(has_text=re.compile(f"^{re.escape(value)}$"))
            if not await by_label.count():
                raise DataError(f"field {f.key!r}: the page offers no such option", page=page)
            await target.select_option(label=value, timeout=self.timeout * 1000)
            return
        await target.select_option(value=value, timeout=self.timeout * 1000)

    # -- submitting ----------------------------------------------------------------------------

    def _mark(self) -> Mark:
        """Where things stand before an action: its answer must come in a newer document."""
        return Mark(self._navs_top, self._navs_child, self._server_errors)

    def _fresh(self, scope: Any, mark: Mark) -> bool:
        """A document newer than the mark is shown in `scope` (the page, or a frame within it)."""
        if self._navs_top > mark.top:
            return True  # a new top document replaces its frames too
        return scope is not self.page and self._navs_child > mark.child

    async def _look(self, frame: str | None = None) -> Look:
        """What the page (or its frame `frame`, a CSS selector) shows, in one round trip."""
        args = [self.system.errors, self.form.success.selector]
        try:
            got = await self.page.evaluate(_LOOK_FROM_TOP, [frame, *args])
            if got is None and frame:
                got = (
                    await self.page.frame_locator(frame)
                    .locator("html")
                    .evaluate(_LOOK_IN_FRAME, args, timeout=500)
                )
        except Exception:  # noqa: BLE001 - mid-navigation: nothing to see yet
            return Look()
        return Look.model_validate(got or {})

    def _met(self, expect: Expect, look: Look | None, mark: Mark) -> bool:
        if expect.url and not _path(self.page.url).startswith(expect.url):
            return False
        if expect.text:
            return look is not None and re.search(expect.text, look.text) is not None
        return self._fresh(self.page, mark) or expect.url is not None

    async def _reached(self, expect: Expect, mark: Mark) -> bool:
        look = await self._look() if expect.text else None
        return self._met(expect, look, mark)

    def _server_error_in(self, look: Look) -> bool:
        return bool(self.system.server_error) and re.search(self.system.server_error, look.text) is not None

    async def _server_error_text(self, frame: str | None = None) -> bool:
        return bool(self.system.server_error) and self._server_error_in(await self._look(frame))

    async def _submit(self, scope: Any, page: Page, last: bool, found: dict[str, Any] | None = None) -> str:
        found = found or {}
        button = found.get("submit") or await self._locate(scope, page.submit, "submit", page.name)
        mark = self._mark()
        self._enter_step(f"{page.name}:submit")
        # Moving on to another URL is proof enough that the page was accepted (no DOM checks needed).
        moved_on = page.next.url if page.next and page.next.url and not page.next.text else None
        if moved_on and _path(self.page.url).startswith(moved_on):
            moved_on = None
        self._changed.clear()
        if last:
            # From this click on, the system may hold the record whatever we see next.
            self._submitted = True
            if self.form.action == "create":
                self._doubt_is_ours = self._doubt is None
                self._doubt = time.time()  # the newest click sets the grace period
                if self.on_final_submit:
                    await self.on_final_submit()
        await button.click(timeout=self.timeout * 1000)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self._check_expired(page.name)
            if self._server_errors > mark.errors:
                raise TransientError(f"{page.name}: server error after submit", page=page.name)
            if moved_on and _path(self.page.url).startswith(moved_on):
                return ""
            fresh_here, fresh_top = self._fresh(scope, mark), self._fresh(self.page, mark)
            if fresh_here or fresh_top:
                top = await self._look()
                here = top if not page.frame else await self._look(page.frame)
                for look in (here, top) if here is not top else (top,):
                    if look.errors:
                        if last and self._doubt_is_ours:
                            self._doubt = None  # the system refused this very submit: nothing saved
                        shot = await self._capture(f"{page.name}-rejected")
                        raise ValidationRejected(look.errors, screenshot=shot, page=page.name)
                if self._server_error_in(top):
                    raise TransientError(f"{page.name}: error page after submit", page=page.name)
                if last:
                    if fresh_top and (reference := self._success(top)):
                        if self.form.action == "create":
                            self._known = reference
                            if self.on_saved:
                                await self.on_saved(reference)
                        await self._capture(f"{page.name}-saved")
                        return reference
                elif page.next and self._met(page.next, top, mark):
                    return ""
            await self._settle()
        raise TransientError(f"{page.name}: no answer within {self.timeout:.0f} s", page=page.name)

    def _success(self, look: Look) -> str | None:
        for text in look.success if self.form.success.selector else [look.text]:
            if m := re.search(self.form.success.text, text):
                return m.groupdict().get("reference") or m.group(0)
        return None

    # -- finding and reading back ----------------------------------------------------------------

    async def _find(self, key: str, step: str = "find") -> str | None:
        find = self.system.find
        await self._goto(find.url, step, key=key)
        seen = await self.page.evaluate(_FIND_JS, [find.rows, find.empty])
        rows = seen["rows"]
        matches = sorted(
            {
                row[find.reference_column - 1]
                for row in rows
                if len(row) >= max(find.key_column, find.reference_column) and row[find.key_column - 1] == key
            }
        )
        self._masks = []
        # The result list is plain server output: its HTML is the whole evidence. A screenshot
        # only when a person has to look at it.
        await self._capture(step, screenshot=False)
        if len(matches) > 1:
            raise DataError(
                f"{self.system.system} holds {len(matches)} records with key {key} "
                f"({', '.join(matches)}): merge them there first",
                screenshot=await self._capture(f"{step}-duplicates"),
                page="find",
            )
        if not rows and seen["empty"] is False:
            if await self._server_error_text():  # an error page served with status 200
                raise TransientError(f"{step}: error page instead of the search results", page="find")
            # Neither results nor "no records": not proof of absence, so nothing is entered.
            raise SearchUnclear(
                f"the search page of {self.system.system} showed neither results nor its no-results "
                f"message ({find.empty}): check `find` in system.yaml against the page",
                screenshot=await self._capture(f"{step}-unclear"),
                page="find",
            )
        return matches[0] if matches else None

    async def _record(self, reference: str) -> dict[str, str]:
        rec = self.system.record
        await self._goto(rec.url, "read-back", reference=reference)
        secret = [f.readback for f in self.form.fields() if f.secret and f.readback]
        pairs = await self.page.locator(rec.rows).evaluate_all(_RECORD_JS, [rec.label, rec.value, secret])
        # Secret values were marked in the page as they were read: evidence leaves them out.
        self._masks = [self.page.locator("[data-hrops-secret]")] if secret else []
        return {_cell_text(k): _cell_text(v) for k, v in pairs if k is not None}

    def _compare(
        self, shown: dict[str, str], values: dict[str, str | bool | None]
    ) -> dict[str, tuple[str, str]]:
        yes = {y.casefold() for y in self.system.record.yes}
        mismatches: dict[str, tuple[str, str]] = {}
        for f in self.form.fields():
            value = values[f.key]
            if f.readback is None or value is None:
                continue
            got = shown.get(f.readback)
            if got is None:
                mismatches[f.key] = (str(value), "<not on the record page>")
            elif f.type == FieldType.CHECKBOX:
                if (got.casefold() in yes) != bool(value):
                    mismatches[f.key] = ("Yes" if value else "No", got)
            elif got != str(value).strip():
                mismatches[f.key] = (str(value), got)
        return mismatches

    async def _differs(self, reference: str, values: dict[str, str | bool | None]) -> bool:
        if any(values[f.key] is not None and f.readback is None for f in self.form.fields()):
            return True  # a value the record page does not show (e.g. a secret) cannot be known equal
        return bool(self._compare(await self._record(reference), values))

    async def _read_back(self, reference: str, values: dict[str, str | bool | None]) -> list[str]:
        shown = await self._record(reference)
        shot = await self._capture("read-back")
        if mismatches := self._compare(shown, values):
            raise VerificationFailed(mismatches, screenshot=shot, page="read-back")
        return [f.key for f in self.form.fields() if f.readback and values[f.key] is not None]


def _attr(value: str | None) -> str:
    """Escape a value for a CSS attribute selector in double quotes."""
    return (value or "").replace("\\", "\\\\").replace('"', '\\"')
