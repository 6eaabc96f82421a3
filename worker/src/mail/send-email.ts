/**
 * The `send_email` driver: Cloudflare's binding (`[[send_email]] name = "SEND_EMAIL"`), given the
 * raw MIME message (cloudflare:email's EmailMessage), so both drivers send the same bytes. On the
 * free plan the binding delivers to verified destination addresses only (docs/reports.md).
 */
import { EmailMessage } from "cloudflare:email";
import { buildMime, type MailMessage } from "./message";
import { MailError, type Mailer } from "./mailer";

export class SendEmailMailer implements Mailer {
  readonly driver = "send_email";
  constructor(private readonly binding: SendEmail) {}

  async send(message: MailMessage): Promise<void> {
    const raw = buildMime(message);
    try {
      await this.binding.send(new EmailMessage(message.from, message.to, raw));
    } catch (error) {
      throw new MailError(`send_email refused the message: ${String((error as Error)?.message ?? error).slice(0, 200)}`);
    }
  }
}
