"""The small script injected into pages: marks elements and performs actions.

It runs through ``page.evaluate`` (one round trip per step). It gives every
interactive element a stable ``data-apid`` (kept for the element's lifetime,
numbered in document order of first sight), marks visibility (``data-apvis``)
and copies live state that HTML attributes do not show (``data-apval`` for
values, ``data-apchk`` for checked boxes, ``data-apsel`` for the chosen
option). Python then reads ``document.body.outerHTML`` with BeautifulSoup.

Interactive means: a native control (``a``, ``button``, ``input``, ``select``,
``textarea``, ``summary``), an ARIA widget role, a ``contenteditable``, an
``onclick`` attribute or property, a d3 v3 click listener (``__onclick``) or a
jQuery click/mousedown/mouseup handler.
"""

from __future__ import annotations

__all__ = ["PAGE_SCRIPT", "PAGE_SCRIPT_INSTALL", "PAGE_SCRIPT_CALL", "RESET_MARKS_SCRIPT"]

#: Clears marks and restarts numbering (run at the start of an episode).
RESET_MARKS_SCRIPT = """() => {
  document.querySelectorAll('[data-apid]').forEach(e => e.removeAttribute('data-apid'));
  window.__apNext = 0;
}"""

#: ``async (arg) => result``; ``arg = {op, id, text, skip, read, url, inplace, origin}``.
#: With ``read`` the result also carries the marked page (``read``) unless the action
#: navigates (``navigate``: the URL Python must load) or types (``focus``: Python types).
#: With ``inplace``, a navigation from a page of ``origin`` to a URL of ``origin`` is done
#: in place, in the same call: the target is fetched over HTTP (as any request of the
#: context), parsed, and its body swapped in (the whole document when its head differs).
#: The new address is kept in ``window.__apUrl`` (what ``read`` reports and relative
#: links resolve against), not in the session history: ``history.pushState`` costs a
#: browser round trip (about 15 ms on a busy 2-core machine), and the env that loads in
#: place (the shop) keeps its own back stack. Scripts of the fetched page do not run
#: (DOMParser), so this is for script-free sites.
#: ``op="load"`` goes to ``url``; ``op="typed"`` fires the events a field sees when
#: typing ends (keyup, change) on the focused element.
#: ``op="wobstart"`` starts a MiniWoB episode on the loaded task page, seeded with the
#: JSON number ``seed`` exactly as the ``miniwob`` package seeds it
#: (``Math.seedrandom(<int>)``: seedrandom mixes a number as its string plus a NUL
#: character, so the string ``"7"`` would give another episode); with ``url`` it first
#: checks that the document can be reused (still ``url``, no history entry added since it
#: loaded) and answers ``{reload: true}`` when not.
PAGE_SCRIPT = r"""async (arg) => {
  const ROLES = new Set(['button','link','tab','menuitem','option','checkbox','radio','treeitem',
                         'textbox','combobox','switch','searchbox','slider','spinbutton']);
  const NATIVE = new Set(['A','BUTTON','INPUT','SELECT','TEXTAREA','SUMMARY']);
  const skip = new Set(arg.skip || []);
  const jq = window.jQuery;
  const AC = jq && jq.ui && jq.ui.autocomplete;
  if (AC && !AC.prototype.__apNow) {
    // jQuery UI's autocomplete searches `delay` ms after a keystroke, on a timer, so whether
    // the next read shows its menu would depend on the machine's load. Search at once instead,
    // as that timer would (the condition is jQuery UI 1.12's).
    AC.prototype.__apNow = true;
    AC.prototype._searchTimeout = function (ev) {
      clearTimeout(this.searching);
      const same = this.term === this._value();
      const shown = this.menu.element.is(':visible');
      const mod = ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey;
      if (!same || (!shown && !mod)) { this.selectedItem = null; this.search(null, ev); }
    };
  }
  function clickable(e) {
    if (NATIVE.has(e.tagName)) {
      if (e.tagName === 'A') {
        return e.hasAttribute('href') || e.onclick || e.__onclick || jqClick(e);
      }
      if (e.tagName === 'INPUT' && e.type === 'hidden') return false;
      return true;
    }
    const role = e.getAttribute('role');
    if (role && ROLES.has(role)) return true;
    if (e.isContentEditable && !(e.parentElement && e.parentElement.isContentEditable)) return true;
    if (e.onclick || e.__onclick || e.__onmousedown || e.__onmouseup) return true;
    return jqClick(e);
  }
  function jqClick(e) {
    if (!jq || !jq._data) return false;
    const ev = jq._data(e, 'events');
    return !!(ev && (ev.click || ev.mousedown || ev.mouseup));
  }
  function visible(e) {
    if (!e.getClientRects().length) return false;
    const s = getComputedStyle(e);
    return s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
  }
  function pointer(e) {
    // Delegated handlers are invisible to the checks above; CSS cursor:pointer is the hint.
    if (getComputedStyle(e).cursor !== 'pointer') return false;
    const p = e.parentElement;
    return !p || getComputedStyle(p).cursor !== 'pointer';
  }
  function mark() {
    if (window.__apNext === undefined) window.__apNext = 0;
    const all = document.body ? document.body.getElementsByTagName('*') : [];
    for (let i = 0; i < all.length; i++) {
      const e = all[i];
      if (e.id && skip.has(e.id)) { e.setAttribute('data-apskip', '1'); }
      const v = visible(e) ? '1' : '0';
      if (e.getAttribute('data-apvis') !== v) e.setAttribute('data-apvis', v);
      if (v === '1' && !e.hasAttribute('data-apid') && (clickable(e) || pointer(e))) {
        e.setAttribute('data-apid', String(++window.__apNext));
      }
      const t = e.tagName;
      if (t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT') {
        if (e.getAttribute('data-apval') !== e.value) e.setAttribute('data-apval', e.value);
        if (t === 'INPUT' && (e.type === 'checkbox' || e.type === 'radio')) {
          const c = e.checked ? '1' : '0';
          if (e.getAttribute('data-apchk') !== c) e.setAttribute('data-apchk', c);
        }
        if (t === 'SELECT') {
          const o = e.options[e.selectedIndex];
          const st = o ? o.textContent.trim() : '';
          if (e.getAttribute('data-apsel') !== st) e.setAttribute('data-apsel', st);
        }
      }
    }
  }
  function read() {
    const r = {html: document.body ? document.body.outerHTML : '', title: document.title,
               url: window.__apUrl || location.href, utterance: null, wob: null};
    if (window.core && core.getUtterance && document.getElementById('query')) {
      r.utterance = core.getUtterance();
    }
    if (typeof WOB_DONE_GLOBAL !== 'undefined') {
      r.wob = {done: WOB_DONE_GLOBAL, reward: WOB_REWARD_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL,
               reason: WOB_REWARD_REASON == null ? null : String(WOB_REWARD_REASON)};
    }
    return r;
  }
  function find(id) {
    return document.querySelector('[data-apid="' + id + '"]');
  }
  function fire(e, type) {
    const r = e.getBoundingClientRect();
    const ev = new MouseEvent(type, {bubbles: true, cancelable: true, view: window, button: 0,
      clientX: r.left + r.width / 2, clientY: r.top + r.height / 2});
    return e.dispatchEvent(ev);
  }
  async function load(url) {
    let r, text;
    try { r = await fetch(url, {credentials: 'same-origin'}); text = await r.text(); }
    catch (err) { return 'could not load ' + url; }
    if (!r.ok) return 'HTTP ' + r.status + ' for ' + url;
    const doc = new DOMParser().parseFromString(text, 'text/html');
    const a = document.documentElement, b = doc.documentElement;
    if (document.head && doc.head && document.head.innerHTML === doc.head.innerHTML
        && a.getAttributeNames().join() === b.getAttributeNames().join()
        && a.getAttributeNames().every(n => a.getAttribute(n) === b.getAttribute(n))) {
      // Same head (the shop's pages share one): swap the body only, keeping parsed styles.
      document.body.replaceWith(document.adoptNode(doc.body));
      document.title = doc.title;
    } else {
      document.replaceChild(document.adoptNode(b), a);
    }
    window.__apUrl = url;
    window.__apNext = 0;
    window.scrollTo(0, 0);
    return null;
  }
  // The page's address: in-place loads record it here, not in the history (see above).
  const here = window.__apUrl || location.href;
  let out = {error: null, navigate: null, focus: false};
  const op = arg.op;
  if (op === 'wobstart') {
    // The miniwob package's own episode start (its Selenium ``begin_task``): seed
    // Math.random with the *number* seed, set the data mode to 'train', then
    // core.startEpisodeReal(); here also lift the wall-clock limit and forget ids.
    // With ``arg.url`` the loaded document is reused: only if it is still that task page,
    // on the history entry it was loaded into; else the caller must load it afresh.
    if (arg.url) {
      if (location.href !== arg.url || history.length !== window.__apHistory || !window.core
          || !core.startEpisodeReal) {
        return {reload: true};
      }
      if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    } else {
      window.__apHistory = history.length;
    }
    if (typeof arg.seed !== 'number' || !Number.isInteger(arg.seed)) {
      return {error: 'wobstart needs an integer seed, got ' + JSON.stringify(arg.seed)};
    }
    Math.seedrandom(arg.seed);
    core.setDataMode('train');
    core.EPISODE_MAX_TIME = 2147483647;
    document.querySelectorAll('[data-apid]').forEach(e => e.removeAttribute('data-apid'));
    window.__apNext = 0;
    core.startEpisodeReal();
  } else if (op === 'load') {
    out.navigate = new URL(arg.url, here).href;
  } else if (op === 'typed') {
    const e = document.activeElement;
    if (e) {
      e.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));
      e.dispatchEvent(new Event('change', {bubbles: true}));
    }
  } else if (op === 'enter') {
    // Enter in a text field of a GET form submits it: report where it goes.
    const e = document.activeElement;
    const form = e && e.tagName === 'INPUT' ? e.form : null;
    out.handled = false;
    if (form && (form.getAttribute('method') || 'get').toLowerCase() === 'get') {
      out.handled = true;
      let submitted = false;
      const h = (ev) => { if (!ev.defaultPrevented) submitted = true; ev.preventDefault(); };
      form.addEventListener('submit', h);
      form.requestSubmit();
      form.removeEventListener('submit', h);
      if (submitted) {
        const u = new URL(form.getAttribute('action') || here, here);
        u.search = new URLSearchParams(new FormData(form)).toString();
        out.navigate = u.href;
      }
    }
  } else if (op === 'scroll') {
    window.scrollBy(0, (arg.text === 'up' ? -1 : 1) * Math.round(innerHeight * 0.8));
  } else if (op !== 'observe') {
    const e = find(arg.id);
    if (!e) { out.error = 'no element with id ' + arg.id + ' on the page'; }
    else if (!visible(e)) { out.error = 'element ' + arg.id + ' is not visible'; }
    else if (op === 'click') {
      if (e.tagName === 'A' && e.hasAttribute('href')) {
        const href = e.getAttribute('href');
        if (!href.startsWith('#') && !href.startsWith('javascript:')
            && !(e.onclick || e.__onclick || jqClick(e))) {
          out.navigate = new URL(href, here).href;
        }
      }
      if (!out.navigate && e.tagName !== 'SELECT') {
        if (e.scrollIntoViewIfNeeded) e.scrollIntoViewIfNeeded(); else e.scrollIntoView();
        fire(e, 'mouseover'); fire(e, 'mousedown');
        if (e.focus) e.focus();
        fire(e, 'mouseup');
        const form = (e.tagName === 'BUTTON' || (e.tagName === 'INPUT' && e.type === 'submit'))
          ? e.form : null;
        if (form && (form.getAttribute('method') || 'get').toLowerCase() === 'get') {
          let submitted = false;
          const h = (ev) => { if (!ev.defaultPrevented) submitted = true; ev.preventDefault(); };
          form.addEventListener('submit', h);
          e.click();
          form.removeEventListener('submit', h);
          if (submitted) {
            const data = new FormData(form);
            if (e.name) data.append(e.name, e.value);
            const u = new URL(form.getAttribute('action') || here, here);
            u.search = new URLSearchParams(data).toString();
            out.navigate = u.href;
          }
        } else if (e instanceof SVGElement) {
          fire(e, 'click');
        } else {
          e.click();
        }
      } else if (e.tagName === 'SELECT') {
        e.focus();
      }
    } else if (op === 'type') {
      const editable = e.isContentEditable ||
        (e.tagName === 'TEXTAREA') ||
        (e.tagName === 'INPUT' && !['checkbox','radio','button','submit','reset','file','image',
                                      'range','color','hidden'].includes(e.type));
      if (!editable) { out.error = 'element ' + arg.id + ' is not a text box'; }
      else {
        e.focus();
        if (e.isContentEditable) {
          const r = document.createRange(); r.selectNodeContents(e);
          const s = getSelection(); s.removeAllRanges(); s.addRange(r);
        } else { e.select(); }
        out.focus = true;
      }
    } else if (op === 'select') {
      if (e.tagName !== 'SELECT') { out.error = 'element ' + arg.id + ' is not a list box'; }
      else {
        const want = String(arg.text).trim().toLowerCase();
        let idx = -1;
        for (let i = 0; i < e.options.length; i++) {
          if (e.options[i].textContent.trim().toLowerCase() === want ||
              e.options[i].value.toLowerCase() === want) { idx = i; break; }
        }
        if (idx < 0) {
          out.error = 'list ' + arg.id + ' has no option ' + JSON.stringify(arg.text);
        }
        else {
          e.focus(); e.selectedIndex = idx;
          e.dispatchEvent(new Event('input', {bubbles: true}));
          e.dispatchEvent(new Event('change', {bubbles: true}));
        }
      }
    }
  }
  if (out.navigate && arg.inplace && location.origin === arg.origin
      && new URL(out.navigate).origin === arg.origin) {
    out.error = await load(out.navigate);
    out.navigate = null;
  }
  if (arg.read && !out.navigate && !out.focus && !(op === 'enter' && !out.handled)) {
    // Also after an error (the page is then unchanged): the caller shows it again.
    mark();
    out.read = read();
  }
  return out;
}"""

#: Installs :data:`PAGE_SCRIPT` in a document as ``window.__agentprmPage`` (read-only,
#: not enumerable), run by the browser context in every new document: a call then ships
#: a one-line script instead of the whole source (about 10 kB) on every ``page.evaluate``.
PAGE_SCRIPT_INSTALL = (
    "try { Object.defineProperty(window, '__agentprmPage', {value: ("
    + PAGE_SCRIPT
    + "), writable: false, enumerable: false, configurable: false}); } catch (e) {}"
)

#: ``(arg) => result``: runs the installed page script, or answers ``{missing: true}``
#: in a document that does not have it (the caller then sends :data:`PAGE_SCRIPT`).
PAGE_SCRIPT_CALL = "(arg) => window.__agentprmPage ? window.__agentprmPage(arg) : {missing: true}"
