/** A permission as the API names it (`area:action`, e.g. `campaigns:manage`), plugins' included. */
export type Permission = string;

/**
 * Whether the signed-in admin holds a permission. The list comes from the API (`me.permissions`), which works it out
 * from the role on every request, so the app keeps no copy of the role table; pages only hide what the API would
 * refuse anyway.
 */
export function can(admin: { permissions: readonly string[] }, permission: Permission): boolean {
  return admin.permissions.includes(permission);
}

/** Whether the admin holds at least one of these; an empty or absent list asks for nothing. */
export function canAny(admin: { permissions: readonly string[] }, permissions: readonly Permission[] | undefined): boolean {
  return !permissions?.length || permissions.some((p) => can(admin, p));
}
