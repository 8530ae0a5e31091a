// The public API is documented: every name lib/index.ts exports (and every
// member of its namespaces), value or type, has a TSDoc comment with an
// @example. Read with the TypeScript compiler, from the sources: `npm run
// docs` (typedoc, with validation.notDocumented) checks the comments and the
// members of classes.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

import * as ts from 'typescript';

// The compiled test runs from dist/test/: the sources are two levels up.
const root = path.resolve(__dirname, '..', '..');
const indexPath = path.join(root, 'lib', 'index.ts');

interface Checked {
  name: string;
  documented: boolean;
  hasExample: boolean;
}

function loadIndex(): { checker: ts.TypeChecker; index: ts.Symbol } {
  const configPath = path.join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram({ rootNames: [indexPath], options: { ...options, noEmit: true } });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(indexPath);
  assert.ok(source !== undefined, `${indexPath} is not in the program`);
  const index = checker.getSymbolAtLocation(source);
  assert.ok(index !== undefined, 'lib/index.ts has no module symbol');
  return { checker, index };
}

/**
 * What an export stands for: an alias's target, and for the names loaded at
 * first use, declared `export declare const X: typeof m.Y`, m.Y (as
 * scripts/typedoc-lazy-exports.mjs documents them).
 */
function resolved(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  if (symbol.flags & ts.SymbolFlags.Alias) return checker.getAliasedSymbol(symbol);
  const declaration = symbol.valueDeclaration;
  if (declaration !== undefined && ts.isVariableDeclaration(declaration) && declaration.type !== undefined && ts.isTypeQueryNode(declaration.type)) {
    const target = checker.getSymbolAtLocation(declaration.type.exprName);
    if (target !== undefined) return target.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(target) : target;
  }
  return symbol;
}

function isModule(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some(ts.isSourceFile);
}

/**
 * The comment of what `symbol` stands for; for a module exported as a
 * namespace (`export * as ns`, `export declare const ns: typeof m`), the
 * comment where it is exported, as typedoc takes it.
 */
function documentation(checker: ts.TypeChecker, symbol: ts.Symbol): { text: string; tags: string[] } {
  const target = resolved(checker, symbol);
  if (!isModule(target)) {
    return {
      text: ts.displayPartsToString(target.getDocumentationComment(checker)).trim(),
      tags: target.getJsDocTags(checker).map((tag) => tag.name),
    };
  }
  let text = '';
  const tags: string[] = [];
  for (const declaration of symbol.declarations ?? []) {
    // The JSDoc of `export * as ns from` sits on the export statement.
    const node = ts.isNamespaceExport(declaration) ? declaration.parent : declaration;
    for (const doc of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(doc)) continue;
      text += (ts.getTextOfJSDocComment(doc.comment) ?? '').trim();
      tags.push(...(doc.tags ?? []).map((tag) => tag.tagName.text));
    }
  }
  return { text, tags };
}

/** The members of a namespace export: the exports of its module. */
function namespaceMembers(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol[] {
  const target = resolved(checker, symbol);
  return isModule(target) ? checker.getExportsOfModule(target) : [];
}

function check(): Checked[] {
  const { checker, index } = loadIndex();
  const checked: Checked[] = [];
  for (const symbol of checker.getExportsOfModule(index)) {
    const { text, tags } = documentation(checker, symbol);
    checked.push({ name: symbol.name, documented: text !== '', hasExample: tags.includes('example') });
    for (const member of namespaceMembers(checker, symbol)) {
      const doc = documentation(checker, member);
      checked.push({ name: `${symbol.name}.${member.name}`, documented: doc.text !== '', hasExample: doc.tags.includes('example') });
    }
  }
  return checked;
}

describe('the API documentation', () => {
  it('documents every export of lib/index.ts and every member of its namespaces, each with an @example', () => {
    const checked = check();
    assert.ok(checked.length > 100, `only ${checked.length} exports found: is lib/index.ts loaded?`);
    const undocumented = checked.filter((c) => !c.documented).map((c) => c.name);
    const withoutExample = checked.filter((c) => !c.hasExample).map((c) => c.name);
    assert.deepEqual(undocumented, [], `exports without a TSDoc comment: ${undocumented.join(', ')}`);
    assert.deepEqual(withoutExample, [], `exports without an @example: ${withoutExample.join(', ')}`);
  });

  it('npm run docs (typedoc, every warning an error: members, constructors, links) succeeds', async function () {
    this.timeout(120000);
    const typedoc = path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
    // --emit none: validation only; docs/api is left as it is.
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [typedoc, '--emit', 'none'], { cwd: root, timeout: 110000 });
    assert.doesNotMatch(`${stdout}${stderr}`, /\[warning\]|\[error\]/);
  });
});
