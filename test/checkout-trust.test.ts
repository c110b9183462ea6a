// The tests load provider modules from the checkout, and credmux refuses a module on a path that
// others can write (src/trusted-path.ts): a checkout under /tmp fails many tests at once. This one
// says why, first, with the fix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { untrustedPathProblem } from "../src/trusted-path.js";
import { REPO_ROOT } from "./helpers/paths.js";

test("the checkout is on a path only root and this user can write, as credmux requires of the modules it loads", () => {
  const problem = untrustedPathProblem(REPO_ROOT);
  assert.equal(problem, undefined, problem && `${problem.reason}: clone credmux somewhere else (under $HOME, say) to run its tests; .ci/run does so itself`);
});
