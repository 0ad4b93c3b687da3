import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <section className="empty">
      <h1>Nothing here</h1>
      <p>
        This page does not exist. Go back to the <Link to="/flags">flags</Link>.
      </p>
    </section>
  );
}
