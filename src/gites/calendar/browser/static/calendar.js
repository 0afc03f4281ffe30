/*
 * gites.calendar -- availability calendar widget.
 *
 * Plain classic script (no framework, no build step).  The contract with the
 * Plone templates (data-* attributes, endpoints, classes) is documented in
 * docs/calendar-widget.rst; keep both in step.
 */
(function () {
  'use strict';

  const TYPES = ['loue', 'indisp', 'libre'];
  const REQUEST_TIMEOUT_MS = 30000;

  const DEFAULT_TEXTS = {
    months: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet',
      'août', 'septembre', 'octobre', 'novembre', 'décembre'],
    weekdays: ['lu', 'ma', 'me', 'je', 've', 'sa', 'di'],
    weekdaysLong: ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'],
    loue: 'Loué',
    indisp: 'Indisponible',
    libre: 'Libre',
    stateLoue: 'Loué',
    stateIndisp: 'Indisponible',
    stateFree: 'Libre',
    stateBusy: 'Occupé',
    today: "aujourd'hui",
    typesLabel: 'Type de période',
    legendLabel: 'Légende',
    prevMonth: 'Mois précédent',
    nextMonth: 'Mois suivant',
    // What the live region says once a range is saved; {type} is the
    // state's name, {nights} one of nightOne / nights (the days of the range).
    savedRange: 'Enregistré : {type} du {start} au {end}, {nights}.',
    savedDay: 'Enregistré : {type} le {date}, {nights}.',
    nightOne: '1 nuit',
    nights: '{count} nuits',
    selectionStarted: 'Début : {date}. Choisissez le dernier jour.',
    selectionCancelled: 'Sélection annulée.',
    pastDay: 'Les jours passés ne peuvent pas être modifiés.',
    errorSave: "L'enregistrement a échoué. Veuillez réessayer.",
    // Who set a busy day (owner pages): {type} {date} {time} {actor}.
    originMine: '{type} — par vous, le {date} à {time}',
    originOwner: '{type} — par le propriétaire, le {date} à {time}',
    originHub: '{type} — par la centrale de réservation (notification {actor}), le {date} à {time}',
    originIcal: '{type} — importé de votre calendrier {actor}, le {date} à {time}',
    originOps: '{type} — par les Gîtes de Wallonie, le {date} à {time}',
    errorLoad: "Le calendrier n'a pas pu être chargé."
  };

  /* ---- dates ------------------------------------------------------------
   * Days travel as 'YYYY-MM-DD' strings (they compare correctly as text);
   * arithmetic is done in UTC so daylight-saving changes never shift a day. */

  function parseDay(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
    if (!m) return null;
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    // Rejects 2027-02-30 and friends, which Date would silently roll over.
    return d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3] ? d : null;
  }

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  function isoOf(y, m0, d) {
    return `${y}-${pad(m0 + 1)}-${pad(d)}`;
  }

  function formatDay(date) {
    return isoOf(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  }

  function addDays(iso, n) {
    const d = parseDay(iso);
    d.setUTCDate(d.getUTCDate() + n);
    return formatDay(d);
  }

  function daysInMonth(y, m0) {
    return new Date(Date.UTC(y, m0 + 1, 0)).getUTCDate();
  }

  // A month as one integer (year * 12 + month0) makes paging trivial.
  function monthIndex(iso) {
    return +iso.slice(0, 4) * 12 + (+iso.slice(5, 7) - 1);
  }

  function addMonths(iso, n) {
    const mi = monthIndex(iso) + n;
    const y = Math.floor(mi / 12);
    const m0 = mi - y * 12;
    return isoOf(y, m0, Math.min(+iso.slice(8, 10), daysInMonth(y, m0)));
  }

  function weekday(iso) {
    return (parseDay(iso).getUTCDay() + 6) % 7; // Monday = 0 (Belgium)
  }

  function daysBetween(a, b) {
    return Math.round((parseDay(b) - parseDay(a)) / 86400000);
  }

  // {name} placeholders of a translated text, each replaced once.
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
  }

  function localToday() {
    const d = new Date();
    return isoOf(d.getFullYear(), d.getMonth(), d.getDate());
  }

  /* ---- small DOM helpers ------------------------------------------------ */

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function parseJSON(text) {
    if (!text) return {};
    try {
      const value = JSON.parse(text);
      return value && typeof value === 'object' ? value : {};
    } catch (err) {
      console.warn('gites-calendar: ignoring invalid data-i18n', err);
      return {};
    }
  }

  async function fetchWithTimeout(url, options) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, Object.assign({ signal: controller.signal }, options));
    } finally {
      clearTimeout(timer);
    }
  }

  let counter = 0;

  class Calendar {
    constructor(root) {
      const ds = root.dataset;
      this.root = root;
      this.t = Object.assign({}, DEFAULT_TEXTS, parseJSON(ds.i18n));
      this.daysUrl = ds.daysUrl || '';
      this.saveUrl = ds.saveUrl || '';
      this.editable = Boolean(this.saveUrl);
      this.hebPk = ds.hebPk || '';
      this.authenticator = ds.authenticator || '';
      const months = parseInt(ds.months, 10);
      this.months = months >= 1 && months <= 12 ? months : 3;
      // The server's date, not the browser clock: they may disagree around
      // midnight and tests need a frozen day.
      this.today = parseDay(ds.today) ? ds.today : localToday();
      const sm = /^(\d{4})-(\d{2})$/.exec(ds.startMonth || '');
      this.viewStart = sm && +sm[2] >= 1 && +sm[2] <= 12
        ? +sm[1] * 12 + (+sm[2] - 1)
        : monthIndex(this.today);
      this.focusDate = this.inView(this.today) ? this.today : this.firstShownDay();

      this.stored = new Map(); // iso -> 'loue' | 'indisp' | 'busy', as the server says
      this.origins = new Map(); // iso -> the change that set the day (owner pages)
      this.overlays = []; // optimistic ranges not yet confirmed by a re-fetch
      this.anchor = null; // first day of a pending selection
      this.hover = null; // other end of the pending selection while choosing
      this.drag = null;
      this.queue = Promise.resolve(); // saves and loads run one at a time, in order
      this.inflight = 0;
      this.navFetchQueued = false;
      this.statusTimer = null;
      this.uid = `gites-calendar-${++counter}`;

      this.onPointerUp = this.onPointerUp.bind(this);
      this.onPointerCancel = this.onPointerCancel.bind(this);
      this.buildShell();
      this.buildMonths();
      this.paint();
      this.bind();
      this.load();
    }

    /* ---- structure ------------------------------------------------------ */

    buildShell() {
      const root = this.root;
      const t = this.t;
      root.replaceChildren(); // anything server-rendered inside is a no-JS fallback
      root.classList.add(this.editable ? 'gites-calendar--editable' : 'gites-calendar--readonly');
      root.setAttribute('aria-busy', 'false');
      root.style.setProperty('--gc-months', String(this.months));

      if (this.editable) this.toolbar = this.setupToolbar();

      const body = el('div', {
        class: 'gites-calendar-body',
        role: 'group',
        'aria-label': root.dataset.title || null
      });
      const nav = el('div', { class: 'gites-calendar-nav' });
      this.prevButton = el('button', {
        type: 'button', class: 'gites-calendar-prev', 'aria-label': t.prevMonth, title: t.prevMonth
      });
      this.nextButton = el('button', {
        type: 'button', class: 'gites-calendar-next', 'aria-label': t.nextMonth, title: t.nextMonth
      });
      // Chevrons are drawn in CSS: no images, nothing for screen readers to spell out.
      this.prevButton.append(el('span', { class: 'gites-calendar-chevron', 'aria-hidden': 'true' }));
      this.nextButton.append(el('span', { class: 'gites-calendar-chevron', 'aria-hidden': 'true' }));
      nav.append(this.prevButton, this.nextButton);
      this.monthsEl = el('div', { class: 'gites-calendar-months' });
      body.append(nav, this.monthsEl);
      root.append(body);

      if (!this.editable) {
        const legend = el('ul', { class: 'gites-calendar-legend', 'aria-label': t.legendLabel });
        for (const [state, label] of [['busy', t.stateBusy], ['free', t.stateFree]]) {
          const item = el('li', { class: `gites-calendar-legend-item is-${state}` });
          item.append(el('span', { class: 'gites-calendar-swatch', 'aria-hidden': 'true' }), label);
          legend.append(item);
        }
        root.append(legend);
      }

      // Live regions exist from the start: text added to a region that has
      // just been inserted is often not announced.
      this.statusEl = el('div', {
        class: 'gites-calendar-status', 'aria-live': 'polite', 'aria-atomic': 'true'
      });
      this.messageEl = el('div', {
        class: 'gites-calendar-message', 'aria-live': 'assertive', 'aria-atomic': 'true'
      });
      // Who set each busy day: a visible tip for the day under focus or the
      // pointer (hidden from screen readers, which read the same words as
      // the day's description, from hidden nodes referenced by
      // aria-describedby).
      this.tipEl = el('div', { class: 'gites-calendar-tip', 'aria-hidden': 'true', hidden: '' });
      this.descriptionsEl = el('div', { class: 'gites-calendar-descriptions', hidden: '' });
      root.append(this.statusEl, this.messageEl, this.tipEl, this.descriptionsEl);
    }

    setupToolbar() {
      const t = this.t;
      let bar = null;
      const selector = this.root.dataset.toolbar;
      if (selector) {
        try {
          bar = document.querySelector(selector);
        } catch (err) {
          bar = null;
        }
      }
      if (!bar) {
        bar = el('div');
        this.root.append(bar);
      }
      // A shared toolbar is filled by the first widget that uses it; a
      // template may also render the buttons itself (data-type + aria-pressed).
      if (!bar.querySelector('button[data-type]')) {
        bar.classList.add('gites-calendar-toolbar');
        bar.setAttribute('role', 'group');
        bar.setAttribute('aria-label', t.typesLabel);
        for (const type of TYPES) {
          const button = el('button', {
            type: 'button',
            class: `gites-calendar-type is-${type}`,
            'data-type': type,
            'aria-pressed': type === 'loue' ? 'true' : 'false'
          });
          button.append(el('span', { class: 'gites-calendar-swatch', 'aria-hidden': 'true' }), t[type]);
          bar.append(button);
        }
      }
      if (!bar.dataset.gitesCalendarBound) {
        bar.dataset.gitesCalendarBound = 'true';
        bar.addEventListener('click', (event) => {
          const picked = event.target.closest('button[data-type]');
          if (!picked || !bar.contains(picked)) return;
          for (const button of bar.querySelectorAll('button[data-type]')) {
            button.setAttribute('aria-pressed', button === picked ? 'true' : 'false');
          }
        });
      }
      return bar;
    }

    currentType() {
      const pressed = this.toolbar.querySelector('button[data-type][aria-pressed="true"]');
      return pressed && TYPES.includes(pressed.dataset.type) ? pressed.dataset.type : 'loue';
    }

    buildMonths() {
      const t = this.t;
      const frag = document.createDocumentFragment();
      this.cells = new Map();
      for (let i = 0; i < this.months; i++) {
        const mi = this.viewStart + i;
        const y = Math.floor(mi / 12);
        const m0 = mi - y * 12;
        const titleId = `${this.uid}-m${i}`;
        const month = el('div', { class: 'gites-calendar-month' });
        month.append(el('div', { class: 'gites-calendar-month-title', id: titleId }, `${t.months[m0]} ${y}`));

        const grid = el('table', {
          class: 'gites-calendar-grid', role: 'grid', 'aria-labelledby': titleId,
          'aria-readonly': this.editable ? null : 'true',
          'aria-multiselectable': this.editable ? 'true' : null
        });
        const head = el('thead');
        const headRow = el('tr', { role: 'row' });
        for (let w = 0; w < 7; w++) {
          headRow.append(el('th', {
            role: 'columnheader', scope: 'col', 'aria-label': t.weekdaysLong[w]
          }, t.weekdays[w]));
        }
        head.append(headRow);

        const body = el('tbody');
        const lead = weekday(isoOf(y, m0, 1));
        const count = daysInMonth(y, m0);
        const slots = Math.ceil((lead + count) / 7) * 7;
        let row = null;
        for (let slot = 0; slot < slots; slot++) {
          if (slot % 7 === 0) {
            row = el('tr', { role: 'row' });
            body.append(row);
          }
          const day = slot - lead + 1;
          if (day < 1 || day > count) {
            row.append(el('td', { role: 'gridcell', class: 'gites-calendar-empty' }));
            continue;
          }
          const iso = isoOf(y, m0, day);
          const cell = el('td', {
            role: 'gridcell', class: 'gites-calendar-day', 'data-date': iso, tabindex: '-1'
          }, String(day));
          this.cells.set(iso, cell);
          row.append(cell);
        }
        grid.append(head, body);
        month.append(grid);
        frag.append(month);
      }
      this.monthsEl.replaceChildren(frag);
    }

    /* ---- state ------------------------------------------------------------ */

    inView(iso) {
      const mi = monthIndex(iso);
      return mi >= this.viewStart && mi < this.viewStart + this.months;
    }

    firstShownDay() {
      const y = Math.floor(this.viewStart / 12);
      return isoOf(y, this.viewStart - y * 12, 1);
    }

    shownMonthsLabel() {
      const labels = [];
      for (let i = 0; i < this.months; i++) {
        const y = Math.floor((this.viewStart + i) / 12);
        labels.push(`${this.t.months[this.viewStart + i - y * 12]} ${y}`);
      }
      return labels.join(' – ');
    }

    displayState() {
      const state = new Map(this.stored);
      for (const overlay of this.overlays) applyRange(state, overlay);
      return state;
    }

    pendingRange() {
      if (!this.anchor) return null;
      const other = this.hover || this.anchor;
      const lo = other < this.anchor ? other : this.anchor;
      const hi = other < this.anchor ? this.anchor : other;
      return [lo < this.today ? this.today : lo, hi];
    }

    paint() {
      const t = this.t;
      const state = this.displayState();
      const range = this.pendingRange();
      const labels = { loue: t.stateLoue, indisp: t.stateIndisp, busy: t.stateBusy };
      const descriptions = document.createDocumentFragment();
      for (const [iso, cell] of this.cells) {
        const kind = state.get(iso);
        const past = iso < this.today;
        const pending = Boolean(range) && iso >= range[0] && iso <= range[1];
        const classes = ['gites-calendar-day'];
        if (kind) classes.push(`is-${kind}`);
        if (past) classes.push('is-past');
        if (iso === this.today) classes.push('is-today');
        if (pending) classes.push('is-pending');
        if (iso === this.anchor) classes.push('is-anchor');
        cell.className = classes.join(' ');
        cell.tabIndex = iso === this.focusDate ? 0 : -1;

        let label = this.dayName(iso);
        if (iso === this.today) label += `, ${t.today}`;
        label += `, ${(kind && labels[kind]) || t.stateFree}`;
        cell.setAttribute('aria-label', label);

        const origin = kind && kind === this.stored.get(iso) ? this.originText(kind, this.origins.get(iso)) : '';
        if (origin) {
          const id = `${this.uid}-o-${iso}`;
          descriptions.append(el('span', { id }, origin));
          cell.setAttribute('aria-describedby', id);
          cell.dataset.origin = origin;
        } else {
          cell.removeAttribute('aria-describedby');
          delete cell.dataset.origin;
        }

        if (past) cell.setAttribute('aria-disabled', 'true');
        else cell.removeAttribute('aria-disabled');
        if (this.editable && !past) cell.setAttribute('aria-selected', pending ? 'true' : 'false');
        else cell.removeAttribute('aria-selected');
      }
      this.descriptionsEl.replaceChildren(descriptions);
      if (this.tipCell) this.showTip(this.tipCell);
    }

    // "Loué — par vous, le 02/12/2026 à 14:05": who set a day, or ''.
    originText(kind, origin) {
      const t = this.t;
      if (!origin || typeof origin !== 'object') return '';
      const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(origin.at || '');
      if (!m) return '';
      const template = origin.mine ? t.originMine
        : { owner: t.originOwner, hub: t.originHub, ical: t.originIcal }[origin.source] || t.originOps;
      return fill(template, {
        type: { loue: t.stateLoue, indisp: t.stateIndisp }[kind] || t.stateBusy,
        date: `${m[3]}/${m[2]}/${m[1]}`,
        time: `${m[4]}:${m[5]}`,
        actor: origin.name || origin.actor || ''
      });
    }

    showTip(cell) {
      const text = cell && this.root.contains(cell) ? cell.dataset.origin : '';
      this.tipCell = cell;
      if (!text) {
        this.tipEl.hidden = true;
        return;
      }
      this.tipEl.textContent = text;
      this.tipEl.hidden = false;
      const box = this.root.getBoundingClientRect();
      const at = cell.getBoundingClientRect();
      const left = Math.max(0, Math.min(at.left - box.left, box.width - this.tipEl.offsetWidth));
      this.tipEl.style.left = `${left}px`;
      this.tipEl.style.top = `${at.bottom - box.top + 4}px`;
    }

    hideTip() {
      this.tipCell = null;
      this.tipEl.hidden = true;
    }

    // "5 mars 2027"; with ``upTo`` (the end of a range) only what differs:
    // "3" before "5 mars 2027", "28 avril" before "3 mai 2027".
    dayName(iso, upTo) {
      const d = parseDay(iso);
      const day = d.getUTCDate();
      if (upTo && upTo.slice(0, 7) === iso.slice(0, 7)) return String(day);
      const month = `${day} ${this.t.months[d.getUTCMonth()]}`;
      if (upTo && upTo.slice(0, 4) === iso.slice(0, 4)) return month;
      return `${month} ${d.getUTCFullYear()}`;
    }

    // What a saved range did, in words: type, first and last day, nights.
    savedText(range) {
      const t = this.t;
      const type = { loue: t.stateLoue, indisp: t.stateIndisp, libre: t.stateFree }[range.type];
      const count = daysBetween(range.start, range.end) + 1;
      const nights = count === 1 ? t.nightOne : fill(t.nights, { count });
      if (count === 1) return fill(t.savedDay, { type, date: this.dayName(range.start), nights });
      return fill(t.savedRange, {
        type,
        start: this.dayName(range.start, range.end),
        end: this.dayName(range.end),
        nights
      });
    }

    /* ---- events ----------------------------------------------------------- */

    bind() {
      this.prevButton.addEventListener('click', () => this.shiftView(-1));
      this.nextButton.addEventListener('click', () => this.shiftView(1));
      this.root.addEventListener('keydown', (event) => this.onKeyDown(event));
      this.monthsEl.addEventListener('pointerdown', (event) => this.onPointerDown(event));
      this.monthsEl.addEventListener('pointerover', (event) => this.onPointerOver(event));
      // Keeps focus in step with the roving tabindex when a cell is focused
      // by other means (screen reader cursor, programmatic focus).
      this.monthsEl.addEventListener('focusin', (event) => {
        const cell = this.dayCell(event.target);
        if (cell && cell.dataset.date !== this.focusDate) {
          this.focusDate = cell.dataset.date;
          this.paint();
        }
        if (cell) this.showTip(cell);
      });
      this.monthsEl.addEventListener('focusout', () => this.hideTip());
      this.monthsEl.addEventListener('pointerover', (event) => {
        const cell = this.dayCell(event.target);
        if (cell) this.showTip(cell);
      });
      this.monthsEl.addEventListener('pointerleave', () => {
        const focused = this.dayCell(document.activeElement);
        if (focused) this.showTip(focused);
        else this.hideTip();
      });
    }

    dayCell(target) {
      const cell = target && target.closest ? target.closest('td[data-date]') : null;
      return cell && this.monthsEl.contains(cell) ? cell : null;
    }

    selectable(iso) {
      return this.editable && iso >= this.today;
    }

    onPointerDown(event) {
      const cell = this.dayCell(event.target);
      if (!cell || event.button !== 0) return;
      const iso = cell.dataset.date;
      this.focusDate = iso;
      cell.focus({ preventScroll: true });
      if (!this.selectable(iso)) {
        this.paint();
        return;
      }
      event.preventDefault(); // no text selection while dragging
      // Touch pointers are captured implicitly; release so pointerover
      // reaches the cells under the finger.
      if (cell.hasPointerCapture && cell.hasPointerCapture(event.pointerId)) {
        cell.releasePointerCapture(event.pointerId);
      }
      if (this.anchor) {
        this.drag = { second: true };
      } else {
        this.anchor = iso;
        this.drag = { second: false };
      }
      this.hover = iso;
      document.addEventListener('pointerup', this.onPointerUp);
      document.addEventListener('pointercancel', this.onPointerCancel);
      this.paint();
    }

    onPointerOver(event) {
      if (!this.anchor) return;
      const cell = this.dayCell(event.target);
      if (!cell || !this.selectable(cell.dataset.date) || cell.dataset.date === this.hover) return;
      this.hover = cell.dataset.date;
      this.paint();
    }

    onPointerUp(event) {
      this.stopDragListening();
      const drag = this.drag;
      this.drag = null;
      if (!drag || !this.anchor) return;
      const cell = this.dayCell(event.target);
      const end = cell && this.selectable(cell.dataset.date) ? cell.dataset.date : this.hover;
      if (!end) return;
      // A press and release on the first day is a plain click: wait for the
      // end, and say so (a screen reader's tap is a click too).
      if (drag.second || end !== this.anchor) this.complete(this.anchor, end);
      else this.announceStart(this.anchor);
    }

    onPointerCancel() {
      // The browser took over (touch scrolling): keep the start day, drop the drag.
      this.stopDragListening();
      this.drag = null;
    }

    stopDragListening() {
      document.removeEventListener('pointerup', this.onPointerUp);
      document.removeEventListener('pointercancel', this.onPointerCancel);
    }

    onKeyDown(event) {
      if (event.key === 'Escape') {
        if (this.anchor) {
          event.preventDefault();
          this.cancelSelection();
        }
        return;
      }
      const cell = this.dayCell(event.target);
      if (!cell || event.altKey || event.ctrlKey || event.metaKey) return;
      const iso = cell.dataset.date;
      let next;
      switch (event.key) {
        case 'ArrowLeft': next = addDays(iso, -1); break;
        case 'ArrowRight': next = addDays(iso, 1); break;
        case 'ArrowUp': next = addDays(iso, -7); break;
        case 'ArrowDown': next = addDays(iso, 7); break;
        case 'Home': next = addDays(iso, -weekday(iso)); break;
        case 'End': next = addDays(iso, 6 - weekday(iso)); break;
        case 'PageUp': next = addMonths(iso, event.shiftKey ? -12 : -1); break;
        case 'PageDown': next = addMonths(iso, event.shiftKey ? 12 : 1); break;
        case 'Enter':
        case ' ':
          event.preventDefault();
          this.pick(iso);
          return;
        default:
          return;
      }
      event.preventDefault();
      this.moveFocus(next);
    }

    moveFocus(iso) {
      const mi = monthIndex(iso);
      let start = this.viewStart;
      // Leaving the shown months pages the view just enough to show the day.
      if (mi < start) start = mi;
      else if (mi >= start + this.months) start = mi - this.months + 1;
      this.focusDate = iso;
      if (this.anchor && iso >= this.today) this.hover = iso;
      if (start !== this.viewStart) this.setView(start);
      else this.paint();
      this.cells.get(iso).focus();
    }

    shiftView(delta) {
      // The focus day follows the view so the roving tab stop stays visible.
      this.focusDate = addMonths(this.focusDate, delta);
      this.setView(this.viewStart + delta);
      this.announce(this.shownMonthsLabel());
    }

    setView(start) {
      this.viewStart = start;
      if (!this.inView(this.focusDate)) this.focusDate = this.firstShownDay();
      this.buildMonths();
      this.paint();
      // The public endpoint only answers for the months asked; the owner's
      // one returns every row, so there is nothing new to fetch.
      if (!this.editable && !this.navFetchQueued) {
        this.navFetchQueued = true;
        this.enqueue(async () => {
          this.navFetchQueued = false;
          await this.refresh();
        });
      }
    }

    pick(iso) {
      if (!this.editable) return;
      if (!this.selectable(iso)) {
        this.announce(this.t.pastDay);
        return;
      }
      if (!this.anchor) {
        this.anchor = iso;
        this.hover = iso;
        this.paint();
        this.announceStart(iso);
        return;
      }
      this.complete(this.anchor, iso);
    }

    announceStart(iso) {
      this.announce(fill(this.t.selectionStarted, { date: this.cells.get(iso).getAttribute('aria-label') }));
    }

    cancelSelection() {
      this.stopDragListening();
      this.anchor = null;
      this.hover = null;
      this.drag = null;
      this.paint();
      this.announce(this.t.selectionCancelled);
    }

    /* ---- server ----------------------------------------------------------- */

    complete(a, b) {
      const start = a < b ? a : b;
      const end = a < b ? b : a;
      this.anchor = null;
      this.hover = null;
      this.drag = null;
      if (start < this.today) {
        // The server refuses past days anyway; say so rather than send it.
        this.paint();
        this.announce(this.t.pastDay);
        return;
      }
      const overlay = { start, end, type: this.currentType() };
      this.overlays.push(overlay); // colour now, confirm after the round trip
      this.setMessage('');
      this.paint();
      this.enqueue(async () => {
        const error = await this.save(overlay);
        let fresh = null;
        try {
          fresh = await this.fetchDays();
        } catch (err) {
          fresh = null;
        }
        this.overlays.splice(this.overlays.indexOf(overlay), 1);
        if (fresh) this.setStored(fresh);
        else if (!error) applyRange(this.stored, overlay); // saved, but the re-fetch failed
        this.paint();
        if (error) this.setMessage(error);
        else this.announce(this.savedText(overlay));
      });
    }

    // Resolves to null on success, else to the message to show.
    async save(range) {
      const body = new URLSearchParams({
        hebPk: this.hebPk,
        start: range.start,
        end: range.end,
        type: range.type,
        _authenticator: this.authenticator
      });
      let response;
      try {
        response = await fetchWithTimeout(this.saveUrl, {
          method: 'POST',
          body,
          credentials: 'same-origin',
          headers: { Accept: 'application/json' }
        });
      } catch (err) {
        return this.t.errorSave;
      }
      let data = null;
      try {
        data = await response.json();
      } catch (err) {
        data = null; // an HTML error page, or a login form after a redirect
      }
      if (response.ok && data && data.ok === true) return null;
      if (data && typeof data.error === 'string' && data.error.trim()) return data.error;
      return this.t.errorSave;
    }

    async fetchDays() {
      const url = new URL(this.daysUrl, document.baseURI);
      const y = Math.floor(this.viewStart / 12);
      url.searchParams.set('year', String(y));
      url.searchParams.set('month', String(this.viewStart - y * 12 + 1));
      url.searchParams.set('range', String(this.months));
      const response = await fetchWithTimeout(url.href, {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json' }
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return this.parseDays(await response.json());
    }

    parseDays(data) {
      const days = new Map();
      const origins = new Map();
      const rented = data && Array.isArray(data.rented) ? data.rented : [];
      const types = data && Array.isArray(data.type) ? data.type : null;
      const sources = data && Array.isArray(data.origin) ? data.origin : [];
      rented.forEach((iso, i) => {
        if (!parseDay(iso)) return;
        let kind = 'busy';
        // Public pages never reveal why a day is taken.
        if (this.editable && types && (types[i] === 'loue' || types[i] === 'indisp')) kind = types[i];
        days.set(iso, kind);
        if (this.editable && sources[i]) origins.set(iso, sources[i]);
      });
      return { days, origins };
    }

    setStored(fresh) {
      this.stored = fresh.days;
      this.origins = fresh.origins;
    }

    async refresh() {
      try {
        this.setStored(await this.fetchDays());
        this.paint();
        return true;
      } catch (err) {
        this.setMessage(this.t.errorLoad);
        return false;
      }
    }

    load() {
      this.enqueue(() => this.refresh());
    }

    enqueue(task) {
      this.inflight += 1;
      this.root.setAttribute('aria-busy', 'true');
      const done = () => {
        this.inflight -= 1;
        if (!this.inflight) this.root.setAttribute('aria-busy', 'false');
      };
      this.queue = this.queue.then(task).catch((err) => console.error('gites-calendar:', err)).then(done);
      return this.queue;
    }

    /* ---- messages --------------------------------------------------------- */

    announce(text) {
      // Emptying first makes a repeated text (the same range twice) heard again.
      clearTimeout(this.statusTimer);
      this.statusEl.textContent = '';
      this.statusTimer = setTimeout(() => {
        this.statusEl.textContent = text;
      }, 50);
    }

    setMessage(text) {
      this.messageEl.textContent = text;
    }
  }

  function applyRange(state, range) {
    for (let iso = range.start; iso <= range.end; iso = addDays(iso, 1)) {
      if (range.type === 'libre') state.delete(iso);
      else state.set(iso, range.type);
    }
  }

  const instances = new WeakMap();

  function init(element) {
    if (!(element instanceof Element)) return null;
    if (!instances.has(element)) instances.set(element, new Calendar(element));
    const calendar = instances.get(element);
    return { element, reload: () => calendar.enqueue(() => calendar.refresh()) };
  }

  function initAll(scope) {
    (scope || document).querySelectorAll('.gites-calendar').forEach(init);
  }

  window.GitesCalendar = { init, initAll };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => initAll());
  } else {
    initAll(); // loaded late (defer runs before DOMContentLoaded, async may not)
  }
})();
