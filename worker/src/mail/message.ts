/**
 * A mail as the reports build it, and its MIME form: multipart/alternative with a plain-text and
 * an HTML part, each base64-encoded, so no body line can be read as an SMTP command or a header.
 * Every header value goes through `headerText` (control characters, CR and LF removed), so a
 * visitor-controlled string in a subject can never start a header of its own.
 */
import { oneLine } from "../unsafe-chars";

/** What every driver sends. `headers` are extra ones (List-Unsubscribe …), values cleaned too. */
export interface MailMessage {
  from: string;
  fromName?: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Without angle brackets, e.g. `report.abc@example.com`; stable per report and recipient. */
  messageId: string;
  headers?: Record<string, string>;
}

/**
 * The headers that let a mail client offer "unsubscribe" (RFC 2369) and unsubscribe in one click
 * (RFC 8058: the provider POSTs `List-Unsubscribe=One-Click` to the URL). One-click needs an
 * https URL, so a plain-http one (a local dashboard) gets the link alone. No mailto: nothing
 * reads mail sent to us.
 */
export function unsubscribeHeaders(url: string): Record<string, string> {
  const headers: Record<string, string> = { "List-Unsubscribe": `<${url}>` };
  if (url.startsWith("https://")) headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  return headers;
}

/** A string safe as (part of) one header line: no control characters, no line breaks. */
export function headerText(value: string): string {
  return oneLine(value);
}

/** An address as a mailbox: lowercase ASCII local@domain, no spaces or brackets, or null. */
export function checkAddress(value: string): string | null {
  const address = value.trim().toLowerCase();
  return /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(address)
    && address.length <= 254 ? address : null;
}

const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** RFC 2047 encoded word for a header value that is not plain ASCII. */
function encodedWord(value: string): string {
  const clean = headerText(value);
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  // Encoded words are at most 75 characters: split the UTF-8 bytes on character boundaries.
  const words: string[] = [];
  let chunk = "";
  for (const char of clean) {
    if (encoder.encode(chunk + char).byteLength > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${base64(encoder.encode(w))}?=`).join("\r\n ");
}

function wrap76(text: string): string {
  return text.replace(/.{1,76}/g, "$&\r\n");
}

/** A display name and address as one header value (`"Name" <a@b>` or `a@b`). */
export function mailbox(address: string, name?: string): string {
  const clean = headerText(name ?? "").replace(/["\\]/g, "");
  return clean ? `${/^[\x20-\x7e]*$/.test(clean) ? `"${clean}"` : encodedWord(clean)} <${address}>` : address;
}

/** The date as RFC 5322 wants it (`Mon, 07 Dec 2026 06:00:00 +0000`). */
function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace("GMT", "+0000");
}

/**
 * The message as CRLF-terminated MIME text. Throws when an address is not a plain mailbox: they
 * come from settings and were checked there, so this is a last guard against header injection.
 */
export function buildMime(message: MailMessage, nowMs = Date.now()): string {
  const from = checkAddress(message.from);
  const to = checkAddress(message.to);
  if (!from || !to) throw new Error("invalid sender or recipient address");
  const boundary = `=_941_${crypto.randomUUID().replace(/-/g, "")}`;
  const headers: [string, string][] = [
    ["From", mailbox(from, message.fromName)],
    ["To", to],
    ["Subject", encodedWord(message.subject)],
    ["Date", rfc5322Date(nowMs)],
    ["Message-ID", `<${headerText(message.messageId).replace(/[<>\s]/g, "")}>`],
    ["MIME-Version", "1.0"],
    ...Object.entries(message.headers ?? {}).map(([k, v]): [string, string] => [k.replace(/[^A-Za-z0-9-]/g, ""), headerText(v)]),
    ["Content-Type", `multipart/alternative; boundary="${boundary}"`],
  ];
  const part = (type: string, body: string) =>
    `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap76(base64(encoder.encode(body)))}`;
  return [
    headers.map(([k, v]) => `${k}: ${v}`).join("\r\n"),
    "",
    part("text/plain", message.text),
    part("text/html", message.html),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}
