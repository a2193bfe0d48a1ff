// <tenx-referrals token="…">: a partner's referral dashboard inside the merchant's own app
// (issue 61). The merchant's server mints the token (POST /v2/handles/{handle}/embed-tokens) and
// puts it in the element; this script, loaded from 10x's origin, reads
// GET /v2/embed/referrals with it and shows the partner's links, earnings and payouts.
//
// What the merchant's origin can count on:
// - every string from the partner or the program is put in the page as text (textContent),
//   never as HTML, so a partner named `<img onerror=…>` is only that text;
// - it works under a strict Content-Security-Policy: no inline script or style, no eval; its
//   styles are a constructed stylesheet adopted by its shadow root (style-src 'self' is enough),
//   and it connects only to the origin it was loaded from (connect-src that origin);
// - no cookie is sent or set (credentials: "omit"), so no third-party cookie is needed;
// - the look follows CSS custom properties set on the element or above it:
//   --tenx-font, --tenx-text, --tenx-muted, --tenx-background, --tenx-border, --tenx-accent,
//   --tenx-radius.
(() => {
  "use strict";
  const script = document.currentScript;
  const API = new URL(script && script.src ? script.src : location.href).origin;

  const CSS = `
:host { display: block; font: var(--tenx-font, 15px/1.5 system-ui, sans-serif);
  color: var(--tenx-text, #1d2433); background: var(--tenx-background, #fff);
  border: 1px solid var(--tenx-border, #d5dae3); border-radius: var(--tenx-radius, 10px);
  padding: 16px 18px; }
h2 { font-size: 1.15em; margin: 0 0 2px; }
h3 { font-size: 1em; margin: 18px 0 6px; }
p { margin: 4px 0; }
.muted { color: var(--tenx-muted, #5a6478); }
.figures { display: flex; flex-wrap: wrap; gap: 10px 28px; margin-top: 10px; }
.figure b { display: block; font-size: 1.35em; font-variant-numeric: tabular-nums; }
ul { list-style: none; margin: 0; padding: 0; }
li { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 6px 12px; padding: 8px 0; border-top: 1px solid var(--tenx-border, #d5dae3); }
li:first-child { border-top: 0; }
.url { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
button { font: inherit; color: #fff; background: var(--tenx-accent, #2453d4); border: 0;
  border-radius: 6px; padding: 6px 12px; cursor: pointer; min-height: 32px; }
button:focus-visible { outline: 3px solid var(--tenx-accent, #2453d4); outline-offset: 2px; }
.error { color: #a1261b; }
`;

  const PAYOUT_WORDS = {
    pending: "Being prepared",
    paid: "Paid",
    failed: "Could not be paid; the program will contact you",
    canceled: "Canceled",
  };

  function money(amount, currency) {
    try {
      // A decimal string, formatted exactly (Intl takes strings without going through a float).
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
    } catch (_) {
      return `${amount} ${currency}`;
    }
  }

  function day(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? "" : d.toLocaleDateString(undefined, { dateStyle: "medium" });
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  class TenxReferrals extends HTMLElement {
    static get observedAttributes() {
      return ["token"];
    }

    constructor() {
      super();
      this.root = this.attachShadow({ mode: "open" });
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      this.root.adoptedStyleSheets = [sheet];
      this.loading = 0;
    }

    connectedCallback() {
      this.load();
    }

    attributeChangedCallback() {
      if (this.isConnected) this.load();
    }

    show(...nodes) {
      this.root.replaceChildren(...nodes);
    }

    async load() {
      const token = this.getAttribute("token") || "";
      const mine = ++this.loading;
      if (!token) {
        this.show(el("p", "Your referral dashboard could not be shown: it has no access token.", "error"));
        return;
      }
      this.show(el("p", "Loading your referral dashboard…", "muted"));
      this.setAttribute("aria-busy", "true");
      let view;
      try {
        const response = await fetch(`${API}/v2/embed/referrals`, {
          headers: { "x-embed-token": token },
          credentials: "omit",
          cache: "no-store",
          referrerPolicy: "no-referrer",
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error((body.error && body.error.message) || "The dashboard is not available right now.");
        view = body;
      } catch (e) {
        if (mine === this.loading) {
          this.removeAttribute("aria-busy");
          this.show(el("p", `Your referral dashboard could not be shown. ${e.message}`, "error"));
        }
        return;
      }
      if (mine !== this.loading) return;
      this.removeAttribute("aria-busy");
      this.render(view);
      this.dispatchEvent(new CustomEvent("tenx-loaded", { bubbles: true }));
    }

    render(view) {
      const head = el("section");
      head.append(el("h2", `${view.program} referrals`), el("p", view.partnerName, "muted"));
      this.show(head, this.earnings(view.earnings || []), this.links(view.links || []),
        this.payouts(view.payouts || []));
    }

    earnings(list) {
      const section = el("section");
      section.append(el("h3", "Your earnings"));
      if (!list.length) {
        section.append(el("p", "No commissions yet: share your link below to start earning.", "muted"));
        return section;
      }
      for (const e of list) {
        const figures = el("div", null, "figures");
        const figure = (label, amount) => {
          const f = el("div", null, "figure");
          f.append(el("b", money(amount, e.currency)), el("span", label, "muted"));
          return f;
        };
        figures.append(figure("waiting for approval", e.pending), figure("approved, to be paid", e.approved),
          figure("paid to you", e.paid));
        if (Number(e.owedBack) > 0) figures.append(figure("owed back from refunds", e.owedBack));
        section.append(figures);
      }
      return section;
    }

    links(list) {
      const section = el("section");
      section.append(el("h3", "Your links"));
      if (!list.length) {
        section.append(el("p", "The program has not given you a link yet.", "muted"));
        return section;
      }
      const ul = el("ul");
      for (const link of list) {
        const li = el("li");
        const text = el("span");
        if (link.title) text.append(el("span", link.title), el("br"));
        text.append(el("span", link.shortUrl, "url"));
        const copy = el("button", "Copy link");
        copy.type = "button";
        copy.setAttribute("aria-label", `Copy ${link.shortUrl}`);
        copy.addEventListener("click", async () => {
          try {
            await navigator.clipboard.writeText(link.shortUrl);
            copy.textContent = "Copied";
          } catch (_) {
            copy.textContent = "Select the link to copy it";
          }
        });
        li.append(text, copy);
        ul.append(li);
      }
      section.append(ul);
      return section;
    }

    payouts(list) {
      const section = el("section");
      section.append(el("h3", "Your payouts"));
      if (!list.length) {
        section.append(el("p", "No payouts yet.", "muted"));
        return section;
      }
      const ul = el("ul");
      for (const p of list) {
        const li = el("li");
        const when = p.paidAt ? `paid ${day(p.paidAt)}` : `since ${day(p.createdAt)}`;
        li.append(el("span", money(p.amount, p.currency)),
          el("span", `${PAYOUT_WORDS[p.status] || p.status}, ${when}`, "muted"));
        ul.append(li);
      }
      section.append(ul);
      return section;
    }
  }

  if (!customElements.get("tenx-referrals")) customElements.define("tenx-referrals", TenxReferrals);
})();
