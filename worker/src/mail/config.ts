/**
 * The configured mailer (docs/reports.md): MAIL_DRIVER names the driver — `send_email`
 * (Cloudflare's binding SEND_EMAIL), `smtp` (submission over cloudflare:sockets) or `resend` (an
 * HTTP API). Unset: no mail is sent and the cron's report job does nothing. Passwords and API
 * keys are wrangler secrets, never vars.
 */
import type { Env } from "../env";
import { numberVar } from "../vars";
import type { Mailer } from "./mailer";
import { checkAddress } from "./message";
import { SendEmailMailer } from "./send-email";
import { ResendMailer } from "./resend";
import { SmtpMailer, type SmtpSecurity } from "./smtp";

/** What the mail settings lack or get wrong, or the mailer they make. */
export type MailerChoice = { ok: true; mailer: Mailer; from: string } | { ok: false; reason: string };

/** True when MAIL_DEV allows loopback and private SMTP hosts and plain SMTP (tests, local dev). */
export function devMail(env: Env): boolean {
  return env.MAIL_DEV === "1" || env.MAIL_DEV === "true";
}

/** The mailer the configuration names, or why there is none. */
export function mailerFromEnv(env: Env): MailerChoice {
  const driver = env.MAIL_DRIVER ?? "";
  if (!driver) return { ok: false, reason: "MAIL_DRIVER is not set: email reports are off" };
  const from = checkAddress(env.MAIL_FROM ?? "");
  if (!from) return { ok: false, reason: "MAIL_FROM is not a plain email address" };
  if (driver === "send_email") {
    if (!env.SEND_EMAIL) return { ok: false, reason: "MAIL_DRIVER is send_email but no [[send_email]] binding SEND_EMAIL exists" };
    return { ok: true, from, mailer: new SendEmailMailer(env.SEND_EMAIL) };
  }
  if (driver === "smtp") {
    const security = (env.SMTP_SECURITY || "tls") as SmtpSecurity;
    if (!["tls", "starttls", "none"].includes(security)) return { ok: false, reason: "SMTP_SECURITY must be tls, starttls or none" };
    const port = Math.floor(numberVar(env.SMTP_PORT, security === "starttls" ? 587 : 465));
    const smtp = new SmtpMailer({
      host: env.SMTP_HOST ?? "", port, security, user: env.SMTP_USER, password: env.SMTP_PASSWORD, dev: devMail(env),
    });
    const problem = smtp.configProblem();
    return problem ? { ok: false, reason: problem } : { ok: true, from, mailer: smtp };
  }
  if (driver === "resend") {
    const api = new ResendMailer({ apiKey: env.RESEND_API_KEY ?? "", url: env.MAIL_API_URL, dev: devMail(env) });
    const problem = api.configProblem();
    return problem ? { ok: false, reason: problem } : { ok: true, from, mailer: api };
  }
  return { ok: false, reason: `MAIL_DRIVER ${JSON.stringify(driver)} is none of send_email, smtp, resend` };
}
