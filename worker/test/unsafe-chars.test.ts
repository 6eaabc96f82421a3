// The Worker's one-line texts (mail headers and bodies, alert reasons) drop the characters
// src/analytics_941/unsafe_chars.py names, from the class generated from it, and keep the rest:
// emoji joined by ZWJ and astral characters (a surrogate pair is not two lone surrogates).
import { describe, expect, it } from "vitest";
import { headerText } from "../src/mail/message";
import { plain } from "../src/reports/render";
import { oneLine } from "../src/unsafe-chars";

describe("oneLine", () => {
  it("turns each run of controls, separators, bidi controls and lone surrogates into a space", () => {
    expect(oneLine("\u001b[31m/a\r\nb\u2028c\u202ed\u061ce\u2066f\u2069\u200f\ud800g\udc00\u0085h\t")).toBe("[31m/a b c d e f g h");
  });

  it("keeps what only looks odd: ZWJ sequences, astral characters, Arabic and Devanagari", () => {
    const text = "👩‍👩‍👧 𝔘 مرحبا नमस्ते ‌";
    expect(oneLine(text)).toBe(text.trim());
  });

  it("is what the reports and the mail headers use", () => {
    expect(plain("Top\u202epage\u0007")).toBe("Top page");
    expect(headerText("Subject\r\nBcc: x@example.com")).toBe("Subject Bcc: x@example.com");
  });
});
