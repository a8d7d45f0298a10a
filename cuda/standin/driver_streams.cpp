// driver_streams.cpp — the stand-in driver: streams (in order, at once), events, and graph capture
// (work recorded, joined streams checked) and replay.
#include "driver_state.h"

using namespace standin::driver;

// ---------------------------------------------------------------- streams, events, graphs

CUAPI CUresult cuStreamCreate(CUstream* stream, unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (stream == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto* s = new CUstream_st();
    s->blocking = (flags & CU_STREAM_NON_BLOCKING) == 0;
    streams.insert(s);
    *stream = s;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamCreateWithPriority(CUstream* stream, unsigned flags, int priority) {
    (void) priority;
    return cuStreamCreate(stream, flags);
}

CUAPI CUresult cuStreamDestroy_v2(CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (streams.erase(stream) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (stream->capture && stream->capture->origin == stream) {
        captures.erase(stream->capture);
        delete stream->capture->graph;
    }
    delete stream;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamSynchronize(CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (!known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (resolve(stream)->capture) {
        resolve(stream)->capture->invalidated = true;
        complain("cuStreamSynchronize on a capturing stream: not permitted (the capture is invalidated)");
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;   // the work ran when it was submitted
}

CUAPI CUresult cuStreamQuery(CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return known_stream(stream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (!known_stream(stream) || events.count(event) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    CUstream s = resolve(stream);
    if (event->capture && captures.count(event->capture) != 0) {
        if (!s->capture) {
            s->capture = event->capture;             // the stream joins the capture (a fork)
            s->joined_up_to = s->last_work;
        } else if (s->capture != event->capture) {
            complain("cuStreamWaitEvent: the stream waits on an event of another capture");
            return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        }
        CUstream from = event->recorded_on;
        if (from != s && from->capture == event->capture) {   // a join: from's work so far is waited for
            from->joined_up_to = std::max(from->joined_up_to, event->recorded_after);
        }
    }
    // Outside captures there is nothing to wait for: work runs in order when submitted.
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if ((std::uintptr_t) stream <= 2 || streams.count(stream) == 0) {
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;   // the legacy default stream cannot capture
    }
    if (stream->capture) {
        return CUDA_ERROR_ILLEGAL_STATE;
    }
    auto c = std::make_shared<Capture>();
    c->graph = new CUgraph_st();
    c->origin = stream;
    c->mode = mode;
    c->thread = std::this_thread::get_id();
    captures.insert(c);
    stream->capture = c;
    stream->joined_up_to = stream->last_work;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamEndCapture(CUstream stream, CUgraph* graph) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graph == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if ((std::uintptr_t) stream <= 2 || streams.count(stream) == 0 || !stream->capture ||
        stream->capture->origin != stream) {
        return CUDA_ERROR_STREAM_CAPTURE_UNMATCHED;
    }
    std::shared_ptr<Capture> c = stream->capture;
    bool unjoined = false;
    for (CUstream s : streams) {
        if (s->capture == c) {
            unjoined |= s != stream && s->last_work > s->joined_up_to;
            s->capture = nullptr;
        }
    }
    captures.erase(c);
    *graph = nullptr;
    if (unjoined) {
        complain("cuStreamEndCapture: a stream forked into the capture has work the origin stream never waited for");
        delete c->graph;
        return CUDA_ERROR_STREAM_CAPTURE_UNJOINED;
    }
    if (c->invalidated) {
        delete c->graph;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    graphs.insert(c->graph);
    *graph = c->graph;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamIsCapturing(CUstream stream, int* status) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (status == nullptr || !known_stream(stream)) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    CUstream s = resolve(stream);
    *status = !s->capture ? CU_STREAM_CAPTURE_STATUS_NONE
              : s->capture->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuThreadExchangeStreamCaptureMode(int* mode) {
    if (mode == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphDestroy(CUgraph graph) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graphs.erase(graph) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    delete graph;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphGetNodes(CUgraph graph, void** nodes, std::size_t* count) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graphs.count(graph) == 0 || count == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (nodes != nullptr) {
        complain("cuGraphGetNodes: node handles are not modelled (pass null to count them)");
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    *count = graph->work.size();
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (CUresult r = need_context()) {
        return r;
    }
    if (exec == nullptr || graphs.count(graph) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto* e = new CUgraphExec_st{graph->work};
    graph_execs.insert(e);
    *exec = e;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphUpload(CUgraphExec exec, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return graph_execs.count(exec) != 0 && known_stream(stream) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (CUresult r = need_context()) {
        return r;
    }
    if (graph_execs.count(exec) == 0 || !known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    auto work = exec->work;
    return submit(stream, [work] {
        for (const auto& w : work) {
            w();
        }
    });
}

CUAPI CUresult cuGraphExecDestroy(CUgraphExec exec) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (graph_execs.erase(exec) == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    delete exec;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventCreate(CUevent* event, unsigned flags) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    (void) flags;
    if (CUresult r = need_context()) {
        return r;
    }
    if (event == nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    auto* e = new CUevent_st();
    events.insert(e);
    *event = e;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventDestroy_v2(CUevent event) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (events.erase(event) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    delete event;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventRecord(CUevent event, CUstream stream) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (events.count(event) == 0 || !known_stream(stream)) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    CUstream s = resolve(stream);
    event->capture = s->capture;
    event->recorded_on = s;
    CUresult r = submit(stream, [event] {
        event->time = std::chrono::steady_clock::now();
        event->recorded = true;
    });
    event->recorded_after = s->last_work;   // the record itself is part of what a waiter joins
    return r;
}

CUAPI CUresult cuEventRecordWithFlags(CUevent event, CUstream stream, unsigned flags) {
    (void) flags;
    return cuEventRecord(event, stream);
}

CUAPI CUresult cuEventSynchronize(CUevent event) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return events.count(event) != 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuEventQuery(CUevent event) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    return events.count(event) != 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUAPI CUresult cuEventElapsedTime(float* milliseconds, CUevent start, CUevent end) {
    std::lock_guard<std::recursive_mutex> guard(lock);
    if (milliseconds == nullptr || events.count(start) == 0 || events.count(end) == 0) {
        return CUDA_ERROR_INVALID_HANDLE;
    }
    if (!start->recorded || !end->recorded) {
        return CUDA_ERROR_NOT_READY;
    }
    *milliseconds = std::chrono::duration<float, std::milli>(end->time - start->time).count();
    return CUDA_SUCCESS;
}
