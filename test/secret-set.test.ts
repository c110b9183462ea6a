// The secret set masks the forms credmux itself writes a secret in, and bounds text after masking;
// a child's kept stderr never starts inside a line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lastLine } from "../src/provider-kit/child-process.js";
import { SecretSet } from "../src/secrets.js";
import { StderrTail } from "../src/provider-kit/stderr-tail.js";

const SECRET = 's3cr3t <value>+/&="x"';
const b64 = (text: string) => Buffer.from(text).toString("base64");

test("add() masks the secret as credmux writes it: raw, in JSON (JavaScript's and Go's escaping), URL- and form-encoded", () => {
  const secrets = new SecretSet();
  secrets.add(SECRET);
  const cases: Array<[string, string]> = [
    ["raw", `said ${SECRET}.`],
    ["JSON", `said ${JSON.stringify(SECRET)}.`],
    ["Go JSON", 'said "s3cr3t \\u003cvalue\\u003e+/\\u0026=\\"x\\"".'],
    ["URL-encoded", `said ${encodeURIComponent(SECRET)}.`],
    ["form-encoded", `said ${new URLSearchParams({ v: SECRET }).toString().slice(2)}.`],
  ];
  for (const [form, text] of cases) {
    assert.equal(secrets.mask(text).replaceAll('"', ""), "said ***.", form);
  }
});

test("addCredential() masks the base64 user:secret of docker auth fields and of an OAuth client's Basic header", () => {
  const secrets = new SecretSet();
  secrets.addCredential("client id", SECRET);
  const formEncode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);
  assert.equal(secrets.mask(`auth ${b64(`client id:${SECRET}`)}`), "auth ***");
  assert.equal(secrets.mask(`Authorization: Basic ${b64(`${formEncode("client id")}:${formEncode(SECRET)}`)}`), "Authorization: Basic ***");
  // A base64 value is itself URL-encoded in a query or form: +, / and = change.
  assert.equal(secrets.mask(`auth=${encodeURIComponent(b64(`client id:${SECRET}`))}`), "auth=***");
});

test("maskAndBound() masks before it cuts, and masks the head of a secret left at the cut", () => {
  const secrets = new SecretSet();
  secrets.add("TOKEN-0123456789");
  const cases: Array<{ name: string; text: string; max: number; expected: string }> = [
    { name: "short enough", text: "a TOKEN-0123456789 b", max: 300, expected: "a *** b" },
    { name: "a secret straddling the cut", text: `${"x".repeat(8)}TOKEN-0123456789${"y".repeat(20)}`, max: 12, expected: "xxxxxxxx***y..." },
    { name: "a secret whose head ends the cut text", text: `${"x".repeat(8)}TOKEN-01${"y".repeat(20)}`, max: 12, expected: "xxxxxxxx***..." },
    { name: "text already cut inside a secret", text: `${"x".repeat(10)}TOKEN-01`, max: 12, expected: "xxxxxxxxxx***..." },
    { name: "nothing of a secret at the cut", text: "z".repeat(20), max: 12, expected: `${"z".repeat(12)}...` },
  ];
  for (const c of cases) assert.equal(secrets.maskAndBound(c.text, c.max), c.expected, c.name);
});

test("lastLine() masks the whole output before it picks the line and bounds it", () => {
  const secrets = new SecretSet();
  secrets.add("line-one\nline-two-secret");
  secrets.add("TOKEN-0123456789");
  assert.equal(lastLine("starting\nfailed with line-one\nline-two-secret\n", secrets), "failed with ***");
  assert.equal(lastLine(`starting\n${"x".repeat(295)}TOKEN-0123456789 and more words after it\n`, secrets), `${"x".repeat(295)}*** a...`);
});

test("the kept stderr starts at a line: a line whose head was dropped is dropped whole", () => {
  const cases: Array<{ name: string; chunks: string[]; max: number; expected: string }> = [
    { name: "within the bound", chunks: ["one\n", "two\n"], max: 16, expected: "one\ntwo\n" },
    { name: "cut at a line start", chunks: ["one\n", "two\n"], max: 4, expected: "two\n" },
    { name: "cut inside a line", chunks: ["first line\nsecond\n"], max: 9, expected: "second\n" },
    { name: "one line longer than the bound", chunks: ["x".repeat(20)], max: 8, expected: "" },
    { name: "the rest of a dropped line is dropped too", chunks: ["x".repeat(20), "yyyy", "zz\nlast\n"], max: 8, expected: "last\n" },
  ];
  for (const c of cases) {
    const tail = new StderrTail(c.max);
    for (const chunk of c.chunks) tail.push(Buffer.from(chunk));
    assert.equal(tail.text(), c.expected, c.name);
  }
});
