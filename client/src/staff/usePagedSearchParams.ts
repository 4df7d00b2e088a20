import { useCallback } from "react";
import { useSearchParams } from "react-router";

/** Page state in the address (shareable, survives reloads); changing a filter goes back
 * to the first page. `defaults` must keep its identity across renders (a module-level
 * constant), or the setters change on every render. */
export function usePagedSearchParams<K extends string>(defaults: Record<K, string>) {
  const [params, setParams] = useSearchParams();
  const get = (key: K | "after" | "before"): string =>
    params.get(key) ?? (key in defaults ? defaults[key as K] : "");
  const setFilters = useCallback(
    (values: Partial<Record<K, string>>) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(values) as [K, string][]) {
            if (value === defaults[key]) next.delete(key);
            else next.set(key, value);
          }
          next.delete("after");
          next.delete("before");
          return next;
        },
        { replace: true },
      ),
    [defaults, setParams],
  );
  const setFilter = useCallback(
    (key: K, value: string) => setFilters({ [key]: value } as Partial<Record<K, string>>),
    [setFilters],
  );
  const setPage = useCallback(
    (page: { after?: string | null; before?: string | null }) =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        next.delete("after");
        next.delete("before");
        if (page.after) next.set("after", page.after);
        if (page.before) next.set("before", page.before);
        return next;
      }),
    [setParams],
  );
  return { get, setFilter, setFilters, setPage };
}
