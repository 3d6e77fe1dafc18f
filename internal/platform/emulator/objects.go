package emulator

import "net/http"

// Apps, workflows and resources (/apps, /workflows, /resources).

func (s *Server) listApps(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]app, 0, len(sp.apps))
	for _, a := range sp.apps {
		out = append(out, *a)
	}
	return all(out)
}

func (s *Server) listWorkflows(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]workflow, 0, len(sp.workflows))
	for _, w := range sp.workflows {
		out = append(out, *w)
	}
	return all(out)
}

func (s *Server) listResources(sp *space, r *http.Request, _ []byte) (int, any) {
	out := make([]resource, 0, len(sp.resources))
	t := r.URL.Query().Get("resource_type")
	for _, res := range sp.resources {
		if t == "" || res.Type == t {
			out = append(out, *res)
		}
	}
	return paged(r, out)
}
