// The request deadline (src/deadline.ts): it passes when it should, aborts its signal and calls its
// callbacks once, and an exec that answers without waiting on anything never sets its timer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Deadline } from "../src/deadline.js";

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a started deadline passes after its time: the signal aborts and each callback runs once, a cancelled one never", async () => {
  const deadline = new Deadline(30);
  const calls: string[] = [];
  deadline.onPass(() => calls.push("first"));
  const cancel = deadline.onPass(() => calls.push("cancelled"));
  cancel();
  const signal = deadline.signal;
  assert.equal(signal.aborted, false);
  await sleep(10);
  assert.equal(deadline.passed, false);
  await sleep(60);
  assert.equal(deadline.passed, true);
  assert.equal(signal.aborted, true);
  assert.deepEqual(calls, ["first"]);
  deadline.onPass(() => calls.push("late"));
  assert.deepEqual(calls, ["first", "late"], "a callback added after the deadline runs at once");
  assert.equal(new Deadline(5).signal.aborted, false);
  deadline.stop();
});

test("a signal first asked for after the deadline passed is already aborted", async () => {
  const deadline = new Deadline(5);
  deadline.start();
  await sleep(40);
  assert.equal(deadline.passed, true);
  assert.equal(deadline.signal.aborted, true);
});

test("a deadline stopped before the promise jobs queued with its start have run never sets a timer; one still running does", async () => {
  const before = timers();
  const answered = new Deadline(10_000);
  await Promise.resolve().then(() => {
    answered.start();
    return Promise.resolve();
  }).then(() => answered.stop());
  await new Promise((resolve) => process.nextTick(resolve));
  assert.equal(timers(), before, "no timer for an answer that waited on nothing");

  const waiting = new Deadline(10_000);
  await Promise.resolve().then(() => waiting.start());
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(timers(), before + 1, "the timer is set before any I/O is waited on");
  waiting.stop();
  assert.equal(timers(), before);
  assert.equal(waiting.passed, false);
});

test("a provider that never settles still meets the deadline, though nothing else keeps the process busy", async () => {
  const deadline = new Deadline(20);
  deadline.start();
  const passed = new Promise<void>((resolve) => deadline.onPass(resolve));
  const outcome = await Promise.race([passed.then(() => "passed"), sleep(2_000).then(() => "hung")]);
  assert.equal(outcome, "passed");
});
