// Kysely plugin: rewrites the logical database names used in queries ("admin", "portal",
// "oneapi") to the configured ones, so every query is fully qualified with the real names.
import {
  OperationNodeTransformer, SchemableIdentifierNode, IdentifierNode,
  type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs,
  type RootOperationNode, type QueryResult, type UnknownRow,
} from 'kysely';

class SchemaMapTransformer extends OperationNodeTransformer {
  constructor(private readonly map: Record<string, string>) { super(); }
  protected override transformSchemableIdentifier(node: SchemableIdentifierNode): SchemableIdentifierNode {
    const t = super.transformSchemableIdentifier(node);
    const schema = t.schema?.name;
    if (schema && Object.prototype.hasOwnProperty.call(this.map, schema)) {
      return SchemableIdentifierNode.createWithSchema(this.map[schema]!, t.identifier.name);
    }
    return t;
  }
}

export class SchemaMapPlugin implements KyselyPlugin {
  private readonly transformer: SchemaMapTransformer;
  constructor(map: Record<string, string>) { this.transformer = new SchemaMapTransformer(map); }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
export { IdentifierNode };
