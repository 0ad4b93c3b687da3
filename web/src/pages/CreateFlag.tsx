import { useNavigate } from 'react-router';
import { flagsApi, type NewFlag } from '../api/endpoints.ts';
import { usePermissions } from '../auth/session.tsx';
import { FlagDefinitionForm } from '../components/FlagDefinitionForm.tsx';
import { ReadOnlyNote, useToast } from '../components/ui.tsx';
import { useAction } from '../lib/hooks.ts';

export function CreateFlagPage() {
  const { canEdit, editReason } = usePermissions();
  const navigate = useNavigate();
  const toast = useToast();
  const create = useAction(async (flag: NewFlag) => {
    const { data } = await flagsApi.create(flag);
    toast(`Flag ${data.key} created; it is off in every environment.`);
    void navigate(`/flags/${data.key}`);
  });
  return (
    <section aria-labelledby="create-title">
      <div className="page-head">
        <h1 id="create-title">New flag</h1>
      </div>
      {canEdit ? (
        <FlagDefinitionForm
          onSubmit={(flag) => void create.run(flag)}
          busy={create.busy}
          error={create.error}
          submitLabel="Create flag"
          onCancel={() => void navigate('/flags')}
        />
      ) : (
        <ReadOnlyNote reason={editReason} />
      )}
    </section>
  );
}
