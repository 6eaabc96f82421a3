/**
 * One `Mailer` interface for every driver (config.ts picks one from MAIL_DRIVER): a driver
 * resolves once the provider accepted the message and throws MailError otherwise.
 */
import type { MailMessage } from "./message";

export type { MailMessage };

/** Sends one message; resolves once the provider accepted it, throws MailError otherwise. */
export interface Mailer {
  readonly driver: string;
  send(message: MailMessage): Promise<void>;
}

/**
 * A send that failed, with a short reason fit for the settings page (never a secret).
 * `permanent`: the provider refused for good (a 5xx reply), so retrying the same mail is useless.
 */
export class MailError extends Error {
  constructor(message: string, readonly permanent = false) {
    super(message);
    this.name = "MailError";
  }
}
