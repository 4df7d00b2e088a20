import { useEffect, useState } from "react";
import { useLocation, useNavigate } from "react-router";

/**
 * The `?token=` of an emailed link, read once; then taken out of the address bar so it
 * stays out of the history and of anything copied from the page.
 */
export function useTokenFromUrl(): string | null {
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => new URLSearchParams(location.search).get("token"));
  useEffect(() => {
    if (new URLSearchParams(location.search).has("token")) {
      navigate(
        { pathname: location.pathname, search: "" },
        { replace: true, state: location.state },
      );
    }
  }, [location, navigate]);
  return token;
}
