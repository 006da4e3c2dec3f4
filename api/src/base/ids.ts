import { v7 as uuidv7 } from 'uuid';

/** Time-ordered ids: primary-key order is creation order, which keeps cursors stable. */
export const newId = (): string => uuidv7();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

/** GraphQL field extension listing ID arguments that are not UUIDs (a queue's job ids), which the id check leaves alone. */
export const OPAQUE_ID_ARGUMENTS = 'opaqueIdArguments';
