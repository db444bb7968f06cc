// Small TypeBox helpers shared by the route schemas.
import { Type, type TSchema } from 'typebox';

/** `t` or JSON null (a column that may be empty, an optional timestamp). */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
