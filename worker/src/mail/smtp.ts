/**
 * The `smtp` driver: message submission over cloudflare:sockets. Port 465 with implicit TLS by
 * default, 587 with STARTTLS when SMTP_SECURITY is `starttls`. Port 25 (relay, not submission)
 * and loopback, private or link-local hosts are refused, as is AUTH over a plain connection;
 * only MAIL_DEV (tests, local development) lifts that, so a test drives a local SMTP server.
 * Replies 5xx make a permanent MailError, anything else a transient one (the cron retries).
 */
import { connect } from "cloudflare:sockets";
import { buildMime, type MailMessage } from "./message";
import { MailError, type Mailer } from "./mailer";
import { isPrivateHost } from "./hosts";

export type SmtpSecurity = "tls" | "starttls" | "none";

export interface SmtpOptions {
  host: string;
  port: number;
  security: SmtpSecurity;
  user?: string;
  password?: string;
  /** MAIL_DEV: loopback and private hosts, port 25 and plain SMTP allowed. */
  dev: boolean;
  /** Milliseconds a whole conversation may take. */
  timeoutMs?: number;
}

const encoder = new TextEncoder();

/** Reads SMTP replies (possibly multi-line: `250-…` lines, then `250 …`) from a socket. */
class ReplyReader {
  private buffer = "";
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  async reply(): Promise<{ code: number; text: string }> {
    const lines: string[] = [];
    for (;;) {
      const end = this.buffer.indexOf("\r\n");
      if (end < 0) {
        const { value, done } = await this.reader.read();
        if (done) throw new MailError("the SMTP server closed the connection");
        this.buffer += this.decoder.decode(value, { stream: true });
        if (this.buffer.length > 65_536) throw new MailError("the SMTP server sent an overlong reply");
        continue;
      }
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      lines.push(line);
      if (!/^\d{3}-/.test(line)) {
        const code = Number(line.slice(0, 3));
        if (!Number.isInteger(code)) throw new MailError("the SMTP server sent no reply code");
        return { code, text: lines.map((l) => l.slice(4)).join(" ") };
      }
    }
  }

  release(): void {
    this.reader.releaseLock();
  }
}

/** Lines starting with "." get another one (RFC 5321 4.5.2); the message ends with CRLF.CRLF. */
export function dotStuff(mime: string): string {
  const body = mime.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
  return `${body.endsWith("\r\n") ? body : `${body}\r\n`}.\r\n`;
}

export class SmtpMailer implements Mailer {
  readonly driver = "smtp";
  constructor(private readonly options: SmtpOptions) {}

  /** Why this configuration may not send, or null. */
  configProblem(): string | null {
    const { host, port, security, user, password, dev } = this.options;
    if (!host) return "SMTP_HOST is not set";
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return "SMTP_PORT is not a port number";
    if (dev) return null;
    if (port === 25) return "SMTP port 25 is refused: use submission (465 or 587)";
    if (isPrivateHost(host)) return "SMTP_HOST is a loopback, private or local address";
    if (security === "none") return "SMTP_SECURITY none is allowed only with MAIL_DEV";
    if (Boolean(user) !== Boolean(password)) return "SMTP_USER and SMTP_PASSWORD go together";
    return null;
  }

  async send(message: MailMessage): Promise<void> {
    const problem = this.configProblem();
    if (problem) throw new MailError(problem, true);
    const timeout = this.options.timeoutMs ?? 30_000;
    const { host, port, security } = this.options;
    const socket = connect({ hostname: host, port }, {
      secureTransport: security === "tls" ? "on" : security === "starttls" ? "starttls" : "off", allowHalfOpen: false,
    });
    let timer: ReturnType<typeof setTimeout> | null = null;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MailError(`the SMTP conversation took over ${timeout} ms`)), timeout);
    });
    try {
      await Promise.race([this.converse(message, socket), expired]);
    } finally {
      if (timer !== null) clearTimeout(timer);
      await socket.close().catch(() => undefined); // also ends a conversation cut by the timeout
    }
  }

  private async converse(message: MailMessage, plainSocket: Socket): Promise<void> {
    const { host, port, security, user, password } = this.options;
    const mime = buildMime(message);
    let socket = plainSocket;
    let reader = new ReplyReader(socket.readable.getReader());
    let writer = socket.writable.getWriter();
    const expect = async (codes: number[], what: string) => {
      const { code, text } = await reader.reply();
      if (!codes.includes(code)) {
        throw new MailError(`SMTP ${what}: ${code} ${text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200)}`, code >= 500);
      }
      return text;
    };
    const command = async (line: string, codes: number[], what = line.split(" ")[0] ?? line) => {
      await writer.write(encoder.encode(`${line}\r\n`));
      return expect(codes, what);
    };
    try {
      await expect([220], "greeting");
      const helo = `EHLO ${message.from.split("@")[1] ?? "localhost"}`;
      let features = await command(helo, [250]);
      if (security === "starttls") {
        if (!/\bSTARTTLS\b/i.test(features)) throw new MailError("the SMTP server does not offer STARTTLS", true);
        await command("STARTTLS", [220]);
        reader.release();
        writer.releaseLock();
        socket = socket.startTls();
        reader = new ReplyReader(socket.readable.getReader());
        writer = socket.writable.getWriter();
        features = await command(helo, [250]);
      }
      if (user && password) {
        if (security === "none" && !this.options.dev) throw new MailError("refusing AUTH over a plain connection", true);
        const plain = btoa(String.fromCharCode(...encoder.encode(`\u0000${user}\u0000${password}`)));
        await command(`AUTH PLAIN ${plain}`, [235], "AUTH");
      }
      await command(`MAIL FROM:<${message.from}>`, [250], "MAIL FROM");
      await command(`RCPT TO:<${message.to}>`, [250, 251], "RCPT TO");
      await command("DATA", [354]);
      await writer.write(encoder.encode(dotStuff(mime)));
      await expect([250], "message");
      await command("QUIT", [221]).catch(() => undefined);
    } catch (error) {
      if (error instanceof MailError) throw error;
      throw new MailError(`SMTP connection to ${host}:${port} failed: ${String((error as Error)?.message ?? error).slice(0, 200)}`);
    } finally {
      if (socket !== plainSocket) await socket.close().catch(() => undefined);
    }
  }
}
