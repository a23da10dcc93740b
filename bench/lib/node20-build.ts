/**
 * The JavaScript copy of Ferry that the `node-versions` scenario runs on Node 20, which has no type
 * stripping: src/ (tests left out) transpiled file by file with the project's own TypeScript
 * (`ts.transpileModule`: types erased, `.ts` import suffixes rewritten to `.js`, no type check) into
 * `<work dir>/node20-build`, with a package.json saying `"type": "module"` and symlinks to the
 * repository's node_modules and examples. Also owns the question "does this Node need that copy?".
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { CompilerOptions } from 'typescript';
import { runCapture } from './proc.ts';

const REPO = join(import.meta.dirname, '../..');
const STAMP = '.ferry-node20-build';

/** Where the built copy lives under the bench's work dir. */
const node20BuildDir = (workDir: string) => join(workDir, 'node20-build');

/** The built CLI entry point (run it as `node MAIN run ...` or `node MAIN --help`). */
const node20Main = (workDir: string) => join(node20BuildDir(workDir), 'src/cli/main.js');

const stripsTypes = new Map<string, Promise<boolean>>();

/** Whether `node` runs .ts files itself (type stripping on by default: Node ≥ 22.18 / 23.6). */
export function canStripTypes(node: string): Promise<boolean> {
  let known = stripsTypes.get(node);
  if (!known) {
    known = runCapture(node, ['-p', 'process.features.typescript ?? ""'], { timeoutMs: 10_000 })
      .then((r) => r.code === 0 && /^(strip|transform)$/.test(r.stdout.trim()));
    stripsTypes.set(node, known);
  }
  return known;
}

/** Ferry's source files that run in production: every .ts under src/ except tests. */
function sourceFiles(dir = join(REPO, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

type TS = typeof import('typescript');

function compilerOptions(ts: TS): CompilerOptions {
  return {
    // Every file is an ES module (package.json "type": "module"). `nodenext` would need the package
    // context that a single-file transpile has not, and would emit CommonJS.
    module: ts.ModuleKind.ES2022,
    // Node 20 (V8 11.3) has all ES2023 syntax; anything newer would be lowered.
    target: ts.ScriptTarget.ES2023,
    useDefineForClassFields: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    sourceMap: false,
    declaration: false,
  };
}

function transpileOne(ts: TS, file: string, outDir: string): void {
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file, compilerOptions: compilerOptions(ts), reportDiagnostics: true,
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const why = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ');
    throw new Error(`cannot transpile ${relative(REPO, file)} for Node 20: ${why}`);
  }
  const target = join(outDir, relative(REPO, file)).replace(/\.ts$/, '.js');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, out.outputText);
}

async function build(outDir: string): Promise<void> {
  const ts = (await import('typescript')).default;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const files = sourceFiles();
  for (const file of files) transpileOne(ts, file, outDir);
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ name: 'ferry-node20-build', private: true, type: 'module' }, null, 2) + '\n');
  symlinkSync(join(REPO, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  symlinkSync(join(REPO, 'examples'), join(outDir, 'examples'), 'dir'); // `ferry demo` reads ../../examples from src/cli
  writeFileSync(join(outDir, STAMP), `${files.length} files from ${join(REPO, 'src')}, TypeScript ${ts.version}\n`);
}

const builds = new Map<string, Promise<string>>();

/**
 * Transpiles src/ into `<workDir>/node20-build` once per work dir (later calls reuse it) and returns
 * the path of the built `src/cli/main.js`. Rejects with the file and reason when a file does not transpile.
 */
export function buildForNode20(workDir: string): Promise<string> {
  const outDir = node20BuildDir(workDir);
  let done = builds.get(outDir);
  if (!done) {
    done = existsSync(join(outDir, STAMP)) ? Promise.resolve(node20Main(workDir)) : build(outDir).then(() => node20Main(workDir));
    done.catch(() => builds.delete(outDir));
    builds.set(outDir, done);
  }
  return done;
}
