// `npm start`: feeds the example requests through the built plugin, one kubelet-style exec each,
// and prints every response with its passwords masked.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const bundle = path.join(here, "..", "dist", "credmux.cjs");
const config = process.argv[2] ?? path.join(here, "example.yaml");
const requests = JSON.parse(fs.readFileSync(process.argv[3] ?? path.join(here, "example-requests.json"), "utf8"));

let failures = 0;
for (const request of requests) {
  const result = spawnSync(process.execPath, [bundle, "--config", config], { input: `${JSON.stringify(request)}\n`, encoding: "utf8", timeout: 30_000 });
  console.log(`request  ${request.apiVersion.split("/")[1]} ${request.image}`);
  if (result.status !== 0) {
    failures++;
    console.log(`failed   exit ${result.status}: ${result.stderr.trim()}`);
  } else {
    const response = JSON.parse(result.stdout);
    for (const entry of Object.values(response.auth ?? {})) entry.password = `***(${entry.password.length} chars)`;
    console.log(`response ${JSON.stringify(response)}`);
    if (result.stderr.trim()) console.log(`stderr   ${result.stderr.trim().split("\n").join("\n         ")}`);
  }
  console.log("");
}
process.exitCode = failures ? 1 : 0;
