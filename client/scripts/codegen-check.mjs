// Fails when src/gql/ is not what `npm run codegen` would generate now: regenerates
// into a temporary directory and compares the two, file by file.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const committed = join(root, "src", "gql");
const fresh = mkdtempSync(join(tmpdir(), "glassshop-codegen-"));

function files(dir) {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
      .sort();
  } catch {
    return [];
  }
}

try {
  const run = spawnSync(
    process.execPath,
    [
      join(root, "node_modules", "@graphql-codegen", "cli", "esm", "bin.js"),
      "--config",
      "codegen.ts",
      "--silent",
    ],
    { cwd: root, env: { ...process.env, CODEGEN_OUT_DIR: `${fresh}/` }, stdio: "inherit" },
  );
  if (run.status !== 0) {
    console.error("codegen:check: GraphQL Code Generator failed.");
    process.exit(run.status ?? 1);
  }
  const expected = files(fresh);
  const actual = files(committed);
  const problems = [];
  for (const name of new Set([...expected, ...actual])) {
    if (!expected.includes(name)) problems.push(`src/gql/${name} should not exist`);
    else if (!actual.includes(name)) problems.push(`src/gql/${name} is missing`);
    else if (
      readFileSync(join(fresh, name), "utf8") !== readFileSync(join(committed, name), "utf8")
    )
      problems.push(`src/gql/${name} is out of date`);
  }
  if (problems.length) {
    console.error(`codegen:check: the generated types are stale:\n  ${problems.join("\n  ")}`);
    console.error("Run `npm run codegen` and commit src/gql/.");
    process.exit(1);
  }
  console.log(`codegen:check: src/gql/ is up to date (${expected.length} files).`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
