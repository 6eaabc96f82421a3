/**
 * A report as a mail: subject, plain text and HTML with inline styles only (mail clients drop
 * <style> blocks and remote content), no images, no tracking. Paths, sources and goal names are
 * visitor- or owner-controlled: HTML-escaped in the HTML part, stripped of control and
 * direction-override characters in the text part and the subject (headers are cleaned again by
 * mail/message.ts).
 */
import type { MailMessage } from "../mail/message";
import type { ReportData, Row } from "./data";
import { periodLabel } from "./periods";
import { oneLine } from "../unsafe-chars";

/** The links a report carries: the dashboard for its period and the recipient's unsubscribe. */
export interface ReportLinks {
  dashboard: string;
  unsubscribe: string;
}

const LONGEST = 90;

/** Text fit for a plain-text line or a header: no control or bidi-override characters, bounded. */
export function plain(value: string): string {
  const clean = oneLine(value);
  return clean.length > LONGEST ? `${clean.slice(0, LONGEST - 1)}…` : clean;
}

/** HTML-escaped text (after `plain`), for element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return plain(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const countries = (() => {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" });
  } catch {
    return null;
  }
})();

function label(dim: "page" | "source" | "country", value: string): string {
  if (!value) return dim === "source" ? "Direct / None" : dim === "country" ? "Unknown" : "(none)";
  if (dim === "country" && /^[A-Z]{2}$/.test(value)) {
    try {
      return countries?.of(value) ?? value;
    } catch {
      return value;
    }
  }
  return value;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** "+12 %", "−5 %", "no change", or "new" when the previous period had none. */
export function change(now: number, before: number): string {
  if (before === 0) return now === 0 ? "no change" : "new";
  const pct = Math.round(((now - before) / before) * 100);
  return pct === 0 ? "no change" : `${pct > 0 ? "+" : "−"}${Math.abs(pct)} %`;
}

/** The dashboard's URL for the report's period (the custom range of its state). */
export function dashboardLink(base: string, data: ReportData): string {
  const { first, last } = data.period.current;
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(data.site.domain)}?period=custom&from=${first}&to=${last}`;
}

export function subject(data: ReportData): string {
  return plain(`${data.site.domain}: ${data.kind} report, ${periodLabel(data.period)}`);
}

const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const CELL = "padding:6px 8px;border-bottom:1px solid #e5e7eb;font-size:14px;color:#111827";

function htmlTable(title: string, dim: "page" | "source" | "country", rows: Row[], mono = false): string {
  if (rows.length === 0) return `<h2 style="font-size:16px;margin:24px 0 8px">${title}</h2><p style="color:#6b7280;font-size:14px;margin:0">None in this period.</p>`;
  const body = rows.map((r) => `<tr><td style="${CELL};word-break:break-all${mono ? ";font-family:Menlo,Consolas,monospace;font-size:13px" : ""}">${escapeHtml(label(dim, r.value))}</td><td style="${CELL};text-align:right;white-space:nowrap">${count(r.visitors)}</td></tr>`).join("");
  return `<h2 style="font-size:16px;margin:24px 0 8px">${title}</h2><table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="border-collapse:collapse">`
    + `<tr><th style="${CELL};text-align:left;color:#6b7280;font-weight:600">${title === "Top pages" ? "Page" : title === "Top sources" ? "Source" : "Country"}</th><th style="${CELL};text-align:right;color:#6b7280;font-weight:600">Visitors</th></tr>${body}</table>`;
}

function textTable(title: string, dim: "page" | "source" | "country", rows: Row[]): string {
  if (rows.length === 0) return `${title}\n  None in this period.`;
  return `${title}\n${rows.map((r) => `  ${count(r.visitors).padStart(7)}  ${plain(label(dim, r.value))}`).join("\n")}`;
}

/** Subject, text and HTML of a report; the caller adds addresses and headers. */
export function renderReport(data: ReportData, links: ReportLinks): Pick<MailMessage, "subject" | "text" | "html"> {
  const when = periodLabel(data.period);
  const kindWord = data.kind === "weekly" ? "week" : "month";
  const metric = (name: string, now: number, before: number) =>
    `<td style="padding:12px;width:50%;background:#f3f4f6;border-radius:6px"><div style="font-size:13px;color:#6b7280">${name}</div><div style="font-size:24px;font-weight:700;color:#111827">${count(now)}</div><div style="font-size:13px;color:#374151">${change(now, before)} vs previous ${kindWord}</div></td>`;
  const goals = data.goals === null ? "" : `<h2 style="font-size:16px;margin:24px 0 8px">Goal conversions</h2><table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="border-collapse:collapse"><tr><th style="${CELL};text-align:left;color:#6b7280;font-weight:600">Goal</th><th style="${CELL};text-align:right;color:#6b7280;font-weight:600">Visitors</th><th style="${CELL};text-align:right;color:#6b7280;font-weight:600">Conversions</th></tr>`
    + data.goals.map((g) => `<tr><td style="${CELL};word-break:break-all">${escapeHtml(g.name)}</td><td style="${CELL};text-align:right">${count(g.visitors)}</td><td style="${CELL};text-align:right">${count(g.conversions)}</td></tr>`).join("") + "</table>";
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(subject(data))}</title></head>`
    + `<body style="margin:0;padding:0;background:#ffffff"><div style="max-width:600px;margin:0 auto;padding:16px;${FONT};color:#111827">`
    + `<p style="font-size:13px;color:#6b7280;margin:0">941 Analytics · ${data.kind} report</p>`
    + `<h1 style="font-size:20px;margin:4px 0 16px;word-break:break-all">${escapeHtml(data.site.domain)}<br><span style="font-size:15px;font-weight:400;color:#374151">${escapeHtml(when)}</span></h1>`
    + `<table role="presentation" width="100%" cellspacing="8" cellpadding="0" style="border-collapse:separate"><tr>${metric("Visitors", data.visitors, data.previousVisitors)}${metric("Pageviews", data.pageviews, data.previousPageviews)}</tr></table>`
    + htmlTable("Top pages", "page", data.pages, true) + htmlTable("Top sources", "source", data.sources) + htmlTable("Top countries", "country", data.countries) + goals
    + `<p style="margin:24px 0"><a href="${escapeHtml(links.dashboard)}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px;font-size:14px">Open the dashboard for this ${kindWord}</a></p>`
    + `<p style="font-size:12px;color:#6b7280">You get this ${data.kind} report because you subscribed in the site's settings. <a href="${escapeHtml(links.unsubscribe)}" style="color:#6b7280">Unsubscribe</a></p>`
    + "</div></body></html>";
  const goalText = data.goals === null ? "" : `\n\nGoal conversions (visitors / conversions)\n${data.goals.map((g) => `  ${count(g.visitors).padStart(7)} / ${count(g.conversions)}  ${plain(g.name)}`).join("\n")}`;
  const text = `941 Analytics: ${data.kind} report for ${plain(data.site.domain)}\n${when}\n\n`
    + `Visitors   ${count(data.visitors)} (${change(data.visitors, data.previousVisitors)} vs previous ${kindWord})\n`
    + `Pageviews  ${count(data.pageviews)} (${change(data.pageviews, data.previousPageviews)} vs previous ${kindWord})\n\n`
    + `${textTable("Top pages", "page", data.pages)}\n\n${textTable("Top sources", "source", data.sources)}\n\n${textTable("Top countries", "country", data.countries)}${goalText}\n\n`
    + `Dashboard for this ${kindWord}: ${links.dashboard}\n\nUnsubscribe: ${links.unsubscribe}\n`;
  return { subject: subject(data), text, html };
}
