import { useEffect, useState } from "react";
import { formatDuration } from "../apollo/errors";

/**
 * "Too many attempts. Try again in 1 minute 30 seconds." The sentence is announced once
 * (role=alert); the countdown below it is not a live region, so screen readers are not
 * interrupted every second.
 */
export function RateLimitNotice({ retryAfter, message }: { retryAfter: number; message?: string }) {
  const [until] = useState(() => Date.now() + retryAfter * 1000);
  const [left, setLeft] = useState(retryAfter);
  useEffect(() => {
    if (left <= 0) return;
    const timer = window.setInterval(() => {
      const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setLeft(seconds);
      if (seconds === 0) window.clearInterval(timer);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [until, left]);
  return (
    <div className="alert alert--warning" role="alert">
      <p>
        {message ?? "Too many attempts."} Try again in {formatDuration(retryAfter)}.
      </p>
      <p className="countdown" aria-hidden={left > 0 ? true : undefined}>
        {left > 0 ? `Time left: ${formatDuration(left)}` : "You can try again now."}
      </p>
    </div>
  );
}
