/** The part of jstat (no bundled types) that the confidence intervals use (intervals.ts). */
declare module 'jstat' {
  export const jStat: {
    studentt: {
      /** Quantile of Student's t with `dof` degrees of freedom. */
      inv(p: number, dof: number): number;
    };
  };
}
