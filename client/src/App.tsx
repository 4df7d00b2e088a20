import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";
import { useAuth } from "./auth/AuthContext";
import { RedirectIfSignedIn, RequireAuth, RequireStaff } from "./auth/guards";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Page";
import { ChangePasswordPage } from "./pages/ChangePasswordPage";
import { ForgotPasswordPage } from "./pages/ForgotPasswordPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { ProfilePage } from "./pages/ProfilePage";
import { ResetPasswordPage } from "./pages/ResetPasswordPage";
import { SessionsPage } from "./pages/SessionsPage";
import { SignInPage } from "./pages/SignInPage";
import { SignUpPage } from "./pages/SignUpPage";
import { VerifyEmailPage } from "./pages/VerifyEmailPage";

// Staff pages are a separate chunk: most users never load them.
const UsersPage = lazy(() => import("./staff/UsersPage"));
const AuditLogPage = lazy(() => import("./staff/AuditLogPage"));

function Home() {
  const { status } = useAuth();
  if (status === "loading") return <Loading label="Checking your session…" />;
  return <Navigate to={status === "signedIn" ? "/profile" : "/sign-in"} replace />;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route
          path="sign-in"
          element={
            <RedirectIfSignedIn>
              <SignInPage />
            </RedirectIfSignedIn>
          }
        />
        <Route
          path="sign-up"
          element={
            <RedirectIfSignedIn>
              <SignUpPage />
            </RedirectIfSignedIn>
          }
        />
        <Route path="forgot-password" element={<ForgotPasswordPage />} />
        <Route path="reset-password" element={<ResetPasswordPage />} />
        <Route path="verify-email" element={<VerifyEmailPage />} />
        <Route
          path="profile"
          element={
            <RequireAuth>
              <ProfilePage />
            </RequireAuth>
          }
        />
        <Route
          path="account/password"
          element={
            <RequireAuth>
              <ChangePasswordPage />
            </RequireAuth>
          }
        />
        <Route
          path="account/sessions"
          element={
            <RequireAuth>
              <SessionsPage />
            </RequireAuth>
          }
        />
        <Route
          path="staff/users"
          element={
            <RequireStaff>
              <Suspense fallback={<Loading />}>
                <UsersPage />
              </Suspense>
            </RequireStaff>
          }
        />
        <Route
          path="staff/audit"
          element={
            <RequireStaff>
              <Suspense fallback={<Loading />}>
                <AuditLogPage />
              </Suspense>
            </RequireStaff>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
