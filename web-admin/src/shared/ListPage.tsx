import { useId, type ReactNode } from 'react';

interface ListPageProps {
  title: string;
  /** Short live-updating text under the title, such as the row count. */
  summary?: ReactNode;
  /** Search box and filters. */
  toolbar?: ReactNode;
  children: ReactNode;
}

/** The shell every resource list builds on: title, summary, toolbar, then the list itself. */
export function ListPage({ title, summary, toolbar, children }: ListPageProps) {
  const titleId = useId();
  return (
    <section className="list-page" aria-labelledby={titleId}>
      <div className="list-page-header">
        <h1 id={titleId}>{title}</h1>
        <p className="list-page-summary" aria-live="polite">
          {summary}
        </p>
      </div>
      {toolbar && (
        <div className="list-page-toolbar" role="search">
          {toolbar}
        </div>
      )}
      {children}
    </section>
  );
}
