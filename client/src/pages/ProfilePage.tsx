import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { type ApiError, formatDuration, toApiError } from "../apollo/errors";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { Loading, Page } from "../components/Page";
import { useApiForm } from "../components/useApiForm";
import { graphql } from "../gql";
import type { MyProfileQuery, UpdateProfileInput } from "../gql/graphql";

export const MyProfileQueryDoc = graphql(`
  query MyProfile {
    me {
      id
      email
      username
      firstName
      lastName
      emailVerified
      dateJoined
      profile {
        id
        phone
        address
        preferences
        updatedAt
      }
    }
  }
`);

export const UpdateProfileMutation = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      id
      username
      firstName
      lastName
      profile {
        id
        phone
        address
        preferences
        updatedAt
      }
    }
  }
`);

export const RequestEmailVerificationMutation = graphql(`
  mutation RequestEmailVerification {
    requestEmailVerification
  }
`);

type Me = NonNullable<MyProfileQuery["me"]>;

interface Draft {
  firstName: string;
  lastName: string;
  username: string;
  phone: string;
  address: string;
  preferences: string;
}

const FIELDS = ["firstName", "lastName", "username", "phone", "address", "preferences"] as const;

function draftOf(me: Me): Draft {
  return {
    firstName: me.firstName,
    lastName: me.lastName,
    username: me.username,
    phone: me.profile.phone ?? "",
    address: me.profile.address ?? "",
    preferences: JSON.stringify(me.profile.preferences ?? {}, null, 2),
  };
}

function parsePreferences(text: string): { value?: Record<string, unknown>; problem?: string } {
  if (!text.trim()) return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return { value: value as Record<string, unknown> };
    }
    return { problem: 'Must be a JSON object, like {"newsletter": true}.' };
  } catch {
    return { problem: 'This is not valid JSON. Example: {"newsletter": true}' };
  }
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function ProfilePage() {
  const { data, loading, error, refetch } = useQuery(MyProfileQueryDoc);
  const me = data?.me;

  if (loading && !me) {
    return (
      <Page title="Your profile">
        <Loading />
      </Page>
    );
  }
  if (!me) {
    return (
      <Page title="Your profile">
        <p className="alert alert--error" role="alert">
          {error ? toApiError(error).message : "Your profile could not be loaded."}
        </p>
        <button type="button" onClick={() => void refetch().catch(() => undefined)}>
          Try again
        </button>
      </Page>
    );
  }
  return (
    <Page title="Your profile">
      {me.emailVerified ? null : <VerifyEmailNotice email={me.email} />}
      <ProfileEditor me={me} />
    </Page>
  );
}

function ProfileEditor({ me }: { me: Me }) {
  const [update] = useMutation(UpdateProfileMutation);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Draft>(() => draftOf(me));
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const form = useApiForm();
  const editButton = useRef<HTMLButtonElement>(null);
  const detailsHeading = useRef<HTMLHeadingElement>(null);
  // Where focus goes when the form closes: back to "Edit" after a cancel, to the details
  // (whose status line says "Saving…") after a save. The form takes focus when it opens.
  const focusAfterClose = useRef<"edit" | "details" | null>(null);
  const focusOnOpen = useRef(false);
  const firstField = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing) {
      // Opened by "Edit"; reopened after a refused save, the first invalid field has it.
      if (focusOnOpen.current) firstField.current?.focus();
      focusOnOpen.current = false;
    } else if (focusAfterClose.current) {
      (focusAfterClose.current === "edit" ? editButton : detailsHeading).current?.focus();
      focusAfterClose.current = null;
    }
  }, [editing]);
  const set = (name: keyof Draft) => (value: string) =>
    setDraft((current) => ({ ...current, [name]: value }));

  function startEditing() {
    if (status === "saving") return; // one change at a time
    setDraft(draftOf(me));
    form.clear();
    setStatus("idle");
    focusOnOpen.current = true;
    setEditing(true);
  }

  function cancel() {
    focusAfterClose.current = "edit";
    setEditing(false);
    form.clear();
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const preferences = parsePreferences(draft.preferences);
    if (!form.check({ preferences: preferences.problem ? [preferences.problem] : [] })) return;

    // Only what changed is sent: a field the API receives is a field it writes.
    const input: UpdateProfileInput = {};
    if (draft.firstName !== me.firstName) input.firstName = draft.firstName;
    if (draft.lastName !== me.lastName) input.lastName = draft.lastName;
    if (draft.username !== me.username) input.username = draft.username.trim();
    if (draft.phone !== (me.profile.phone ?? "")) input.phone = draft.phone;
    if (draft.address !== (me.profile.address ?? "")) input.address = draft.address;
    if (!sameJson(preferences.value, me.profile.preferences)) input.preferences = preferences.value;
    if (Object.keys(input).length === 0) {
      setEditing(false);
      setStatus("idle");
      return;
    }

    // Optimistic: the page shows the new values at once; if the API refuses, the cache
    // rolls back and the form comes back with the draft and the API's errors.
    const submitted = draft;
    focusAfterClose.current = "details";
    setEditing(false);
    setStatus("saving");
    form.clear();
    try {
      await update({
        variables: { input },
        optimisticResponse: {
          updateProfile: {
            __typename: "User",
            id: me.id,
            username: input.username ?? me.username,
            firstName: (input.firstName ?? me.firstName).trim(),
            lastName: (input.lastName ?? me.lastName).trim(),
            profile: {
              __typename: "UserProfile",
              id: me.profile.id,
              phone: input.phone == null ? me.profile.phone : input.phone.trim() || null,
              address: input.address == null ? me.profile.address : input.address.trim() || null,
              preferences: preferences.value ?? me.profile.preferences,
              updatedAt: me.profile.updatedAt,
            },
          },
        },
      });
      setStatus("saved");
    } catch (thrown) {
      setStatus("idle");
      setDraft(submitted);
      setEditing(true);
      const error = toApiError(thrown);
      if (error.code === "CONFLICT" && input.username !== undefined) {
        error.fields = { username: [error.message] }; // "This username is taken."
      }
      form.setError(error);
    }
  }

  if (!editing) {
    return (
      <section aria-labelledby="profile-details">
        <h2 id="profile-details" ref={detailsHeading} tabIndex={-1}>
          Details
        </h2>
        <p className="save-status" role="status">
          {status === "saving"
            ? "Saving your changes…"
            : status === "saved"
              ? "Your changes are saved."
              : ""}
        </p>
        <dl className="details">
          <dt>Email</dt>
          <dd>
            {me.email} {me.emailVerified ? <span className="badge">verified</span> : null}
          </dd>
          <dt>Name</dt>
          <dd>{[me.firstName, me.lastName].filter(Boolean).join(" ") || <em>not set</em>}</dd>
          <dt>Username</dt>
          <dd>{me.username}</dd>
          <dt>Phone</dt>
          <dd>{me.profile.phone || <em>not set</em>}</dd>
          <dt>Address</dt>
          <dd className="preserve-lines">{me.profile.address || <em>not set</em>}</dd>
          <dt>Preferences</dt>
          <dd>
            <pre className="json">{JSON.stringify(me.profile.preferences ?? {}, null, 2)}</pre>
          </dd>
          <dt>Member since</dt>
          <dd>{new Date(me.dateJoined).toLocaleDateString()}</dd>
        </dl>
        <button
          type="button"
          ref={editButton}
          onClick={startEditing}
          aria-disabled={status === "saving" || undefined}
        >
          Edit profile
        </button>
      </section>
    );
  }

  return (
    <section aria-labelledby="profile-edit">
      <h2 id="profile-edit">Edit your details</h2>
      <form ref={form.formRef} onSubmit={onSubmit} noValidate>
        <FormAlert ref={form.alertRef} error={form.error} fields={FIELDS} />
        <div className="field-row">
          <Field
            label="First name"
            name="firstName"
            autoComplete="given-name"
            inputRef={firstField}
            value={draft.firstName}
            onChange={set("firstName")}
            errors={form.fieldErrors("firstName")}
          />
          <Field
            label="Last name"
            name="lastName"
            autoComplete="family-name"
            value={draft.lastName}
            onChange={set("lastName")}
            errors={form.fieldErrors("lastName")}
          />
        </div>
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          spellCheck={false}
          required
          value={draft.username}
          onChange={set("username")}
          errors={form.fieldErrors("username")}
        />
        <Field
          label="Phone"
          name="phone"
          type="tel"
          autoComplete="tel"
          inputMode="tel"
          value={draft.phone}
          onChange={set("phone")}
          errors={form.fieldErrors("phone")}
        />
        <Field
          label="Address"
          name="address"
          multiline
          rows={3}
          autoComplete="street-address"
          value={draft.address}
          onChange={set("address")}
          errors={form.fieldErrors("address")}
        />
        <Field
          label="Preferences (JSON)"
          name="preferences"
          multiline
          rows={6}
          spellCheck={false}
          hint='A JSON object, for example {"newsletter": true, "currency": "EUR"}.'
          value={draft.preferences}
          onChange={set("preferences")}
          errors={form.fieldErrors("preferences")}
        />
        <div className="actions">
          <button type="submit">Save changes</button>
          <button type="button" className="secondary" onClick={cancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function VerifyEmailNotice({ email }: { email: string }) {
  const [send, { loading, data }] = useMutation(RequestEmailVerificationMutation);
  const [error, setError] = useState<ApiError | null>(null);
  async function onClick() {
    setError(null);
    try {
      await send();
    } catch (thrown) {
      setError(toApiError(thrown));
    }
  }
  return (
    <section className="alert alert--info" aria-labelledby="verify-heading">
      <h2 id="verify-heading">Please verify your email</h2>
      <p>
        We sent a link to <strong>{email}</strong>. Open it to confirm the address is yours.
      </p>
      <p role="status">{data?.requestEmailVerification ? "A new link is on its way." : ""}</p>
      {error ? (
        <p role="alert" className="error-text">
          {error.code === "RATE_LIMITED" && error.retryAfter !== null
            ? `You've asked for several links already. Try again in ${formatDuration(error.retryAfter)}.`
            : error.message}
        </p>
      ) : null}
      <button type="button" className="secondary" onClick={onClick} disabled={loading}>
        {loading ? "Sending…" : "Send a new link"}
      </button>
    </section>
  );
}
