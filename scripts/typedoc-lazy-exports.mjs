// A typedoc plugin (typedoc.json) for lib/index.ts, whose exports loaded at
// first use (lib/lazy.ts) are declared as
//
//     export declare const Lock: typeof synchronizeModule.Lock;
//     export type Lock = synchronizeModule.Lock;
//
// which typedoc would document as a variable whose type links nowhere.
// Each stands for the class, function or module it is the type of: this
// converts that one under the exported name, with the comments of its
// definition, as typedoc does for `export { Lock } from '…'`.
//
// It converts the entry point's exports itself, namespaces last, so that a
// name exported both at the top level and in a namespace (Connection and
// connection.Connection, SyncManager and managers.SyncManager) has its page
// at the top level and a reference in the namespace. What typedoc then makes
// of the same exports (references to those very pages) is dropped.
import ts from 'typescript';
import { Converter } from 'typedoc';

/** What `export declare const X: typeof m.Y` stands for: m.Y, aliases resolved. */
function standsFor(checker, exported) {
  const declaration = exported.valueDeclaration;
  if (declaration === undefined || !ts.isVariableDeclaration(declaration)) return undefined;
  const type = declaration.type;
  if (type === undefined || !ts.isTypeQueryNode(type)) return undefined;
  const target = checker.getSymbolAtLocation(type.exprName);
  if (target === undefined) return undefined;
  return target.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(target) : target;
}

function isModule(symbol) {
  return (symbol.declarations ?? []).some((declaration) => ts.isSourceFile(declaration));
}

export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_PROJECT, (context) => {
    const entry = context.getSymbolFromReflection(context.project);
    if (entry === undefined) return;
    const { checker } = context;
    const exports = checker.getExportsOfModule(entry).map((exported) => {
      const standIn = standsFor(checker, exported);
      const target = standIn ?? (exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported);
      return { exported, target, rank: isModule(target) ? 2 : standIn !== undefined ? 0 : 1 };
    });
    // The stand-ins first: a page is what the first reflection made for a
    // symbol, and a type such as Context's `get Pipe(): typeof Pipe` makes one.
    exports.sort((a, b) => a.rank - b.rank);
    for (const { exported, target } of exports) context.converter.convertSymbol(context, target, exported);
  });

  // A reference to a page of the same name beside it says nothing.
  app.converter.on(
    Converter.EVENT_RESOLVE_BEGIN,
    (context) => {
      const { project } = context;
      for (const child of [...(project.children ?? [])]) {
        if (!child.isReference()) continue;
        const target = child.tryGetTargetReflection();
        if (target !== undefined && target.parent === project && target.name === child.name) project.removeReflection(child);
      }
    },
    // Before typedoc's own resolvers (categories, groups, links).
    1000,
  );
}
