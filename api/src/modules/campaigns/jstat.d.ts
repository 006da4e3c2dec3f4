/** The part of jstat (no bundled types) that the uplift statistics use. */
declare module 'jstat' {
  export const jStat: {
    studentt: {
      /** Quantile of Student's t with `dof` degrees of freedom. */
      inv(p: number, dof: number): number;
    };
  };
}
