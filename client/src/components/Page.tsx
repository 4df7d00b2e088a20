import { type ReactNode, useEffect } from "react";

/** A page: its <title> and its one <h1>, which receives focus after navigation. */
export function Page({
  title,
  children,
  width = "narrow",
}: {
  title: string;
  children: ReactNode;
  width?: "narrow" | "wide";
}) {
  useEffect(() => {
    document.title = `${title} · GlassShop`;
  }, [title]);
  return (
    <div className={`page page--${width}`}>
      <h1 tabIndex={-1} className="page-title">
        {title}
      </h1>
      {children}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}
