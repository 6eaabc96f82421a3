/**
 * The `resend` driver: an HTTP API (Resend's `POST /emails`), for accounts that send through a
 * provider's API rather than SMTP. The key is a secret (RESEND_API_KEY). Each report goes with
 * its Message-ID as `Idempotency-Key`, so a retry of a send the provider already accepted (a
 * run that died before marking it, within the provider's 24 hours) is not delivered twice.
 * 4xx answers other than 408/429 are permanent; 408, 429 and 5xx are retried.
 */
import { headerText, mailbox, type MailMessage } from "./message";
import { MailError, type Mailer } from "./mailer";
import { isPrivateHost } from "./hosts";

export const RESEND_API_URL = "https://api.resend.com/emails";

export interface HttpApiOptions {
  apiKey: string;
  /** The endpoint; only MAIL_DEV allows anything but https on a public host. */
  url?: string;
  dev: boolean;
  timeoutMs?: number;
}

export class ResendMailer implements Mailer {
  readonly driver = "resend";
  constructor(private readonly options: HttpApiOptions) {}

  /** Why this configuration may not send, or null. */
  configProblem(): string | null {
    if (!this.options.apiKey) return "RESEND_API_KEY is not set (wrangler secret put RESEND_API_KEY)";
    let url: URL;
    try {
      url = new URL(this.options.url || RESEND_API_URL);
    } catch {
      return "MAIL_API_URL is not a URL";
    }
    if (this.options.dev) return null;
    if (url.protocol !== "https:") return "MAIL_API_URL must be https";
    if (isPrivateHost(url.hostname)) return "MAIL_API_URL is a loopback, private or local address";
    return null;
  }

  async send(message: MailMessage): Promise<void> {
    const problem = this.configProblem();
    if (problem) throw new MailError(problem, true);
    const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k.replace(/[^A-Za-z0-9-]/g, ""), headerText(v)]));
    let response: Response;
    try {
      response = await fetch(this.options.url || RESEND_API_URL, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.options.apiKey}`,
          "Content-Type": "application/json",
          "Idempotency-Key": headerText(message.messageId).slice(0, 256),
        },
        body: JSON.stringify({
          from: mailbox(message.from, message.fromName), to: [message.to], subject: headerText(message.subject),
          html: message.html, text: message.text, headers,
        }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new MailError(`the mail API could not be reached: ${String((error as Error)?.message ?? error).slice(0, 200)}`);
    }
    if (response.ok) return;
    const detail = (await response.text().catch(() => "")).replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
    const transient = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new MailError(`the mail API answered ${response.status}: ${detail}`, !transient);
  }
}
