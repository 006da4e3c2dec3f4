import type { MikroORM } from '@mikro-orm/core';
import type { PostgreSqlDriver } from '@mikro-orm/postgresql';

/**
 * The initialised ORM, as modules' long-running loops (campaign runner, webhook dispatcher, points scheduler) receive it.
 * Composition builds it from every module's entities and migrations (orm.ts); a module needs only its type.
 */
export type Orm = MikroORM<PostgreSqlDriver>;

/**
 * The TypeScript side of a reference from a child entity to its parent when the parent's file imports the child's (for
 * its collection): the relation names its target by entity name (`@ManyToOne('Order', ...)`) and its type by id alone,
 * so the two files do not import each other. `line.order.id` works; load the parent through its own entity class.
 */
export interface EntityById {
  id: string;
}
